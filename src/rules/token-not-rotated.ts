import { sql } from 'drizzle-orm';
import { daysBefore, daysSinceFact, isoFact, liveToken, num, numberSetting, sqlRule, tokenFactsQuery } from './sql.js';

export const tokenNotRotated = sqlRule({
  id: 'token-not-rotated',
  title: 'API token not rotated for a long time',
  severity: 'low',
  controls: ['SOC2:CC6.1', 'ISO27001:A.5.17', 'PCI:8.6.3'],
  rationale:
    'The longer a secret lives, the more places it has been copied to and the more people have seen it. Rolling the ' +
    'token regularly bounds how long a silent leak stays useful.',
  remediation: 'Roll the token (Cloudflare dashboard → API Tokens → Roll), update its consumers, and put the next rotation on a schedule.',
  thresholds: { days: { default: 365, description: 'days since the token was issued or last modified (a roll modifies it)' } },
  hitsQuery(ctx) {
    const days = numberSetting(ctx, 'days');
    // Rolling the secret updates modified_on, so the newer of the two dates is the secret's age (a policy edit also counts: lenient on purpose).
    const facts = [
      isoFact('issued_on', sql`t.issued_on`), isoFact('modified_on', sql`t.modified_on`),
      isoFact('age_since', sql`greatest(t.issued_on, t.modified_on)`),
      daysSinceFact(ctx.now, 'age_days', 'age_since', sql`greatest(t.issued_on, t.modified_on)`), { key: 'threshold_days', input: num(days) },
    ];
    return tokenFactsQuery(facts, (columns) => sql`
      select ${columns}
      from api_tokens t
      where ${liveToken(ctx.now)} and greatest(t.issued_on, t.modified_on) < ${daysBefore(ctx.now, days)}
      order by t.id`);
  },
});
