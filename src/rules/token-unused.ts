import { sql } from 'drizzle-orm';
import { daysBefore, daysSinceFact, isoFact, liveToken, num, numberSetting, sqlRule, tokenFactsQuery } from './sql.js';

export const tokenUnused = sqlRule({
  id: 'token-unused',
  title: 'API token not used for a long time',
  severity: 'medium',
  controls: ['SOC2:CC6.2', 'SOC2:CC6.3', 'ISO27001:A.5.18', 'PCI:8.2.6'],
  rationale:
    'A token nobody has used for months is access nobody needs: its secret still sits somewhere (an old server, a ' +
    'former colleague\'s laptop) and works if it leaks, while nobody would notice it being used.',
  remediation: 'Confirm with the owner that nothing depends on the token, then delete it (or disable it first and delete it after a grace period).',
  thresholds: { days: { default: 90, description: 'days since last use after which a token counts as unused' } },
  hitsQuery(ctx) {
    const days = numberSetting(ctx, 'days');
    const facts = [
      isoFact('last_used_on', sql`t.last_used_on`), daysSinceFact(ctx.now, 'days_unused', 'last_used_on', sql`t.last_used_on`),
      { key: 'threshold_days', input: num(days) }, isoFact('issued_on', sql`t.issued_on`),
    ];
    return tokenFactsQuery(facts, (columns) => sql`
      select ${columns}
      from api_tokens t
      where ${liveToken(ctx.now)} and t.last_used_on < ${daysBefore(ctx.now, days)}
      order by t.id`);
  },
});
