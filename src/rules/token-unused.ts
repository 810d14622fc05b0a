import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { TOKEN_COLUMNS, type TokenRow, daysBefore, iso, liveToken, numberSetting, query, tokenHit, type Timestamp, ageDays } from './sql.js';

interface Row extends TokenRow { last_used_on: Timestamp; issued_on: Timestamp | null }

export const tokenUnused: Rule = {
  id: 'token-unused',
  title: 'API token not used for a long time',
  severity: 'medium',
  controls: ['SOC2:CC6.2', 'SOC2:CC6.3', 'ISO27001:A.5.18', 'PCI:8.2.6'],
  rationale:
    'A token nobody has used for months is access nobody needs: its secret still sits somewhere (an old server, a ' +
    'former colleague\'s laptop) and works if it leaks, while nobody would notice it being used.',
  remediation: 'Confirm with the owner that nothing depends on the token, then delete it (or disable it first and delete it after a grace period).',
  thresholds: { days: { default: 90, description: 'days since last use after which a token counts as unused' } },
  async evaluate(ctx) {
    const days = numberSetting(ctx, 'days');
    const rows = await query<Row>(ctx, sql`
      select ${TOKEN_COLUMNS}, t.last_used_on, t.issued_on
      from api_tokens t
      where ${liveToken(ctx.now)} and t.last_used_on < ${daysBefore(ctx.now, days)}
      order by t.id`);
    return rows.map((r) => tokenHit(r, {
      last_used_on: iso(r.last_used_on),
      days_unused: ageDays(ctx.now, r.last_used_on),
      threshold_days: days,
      issued_on: iso(r.issued_on),
    }));
  },
};
