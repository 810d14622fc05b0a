import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { TOKEN_COLUMNS, type TokenRow, daysBefore, iso, liveToken, numberSetting, query, tokenHit, type Timestamp, ageDays } from './sql.js';

interface Row extends TokenRow { issued_on: Timestamp | null; modified_on: Timestamp | null; changed: Timestamp }

export const tokenNotRotated: Rule = {
  id: 'token-not-rotated',
  title: 'API token not rotated for a long time',
  severity: 'low',
  controls: ['SOC2:CC6.1', 'ISO27001:A.5.17', 'PCI:8.6.3'],
  rationale:
    'The longer a secret lives, the more places it has been copied to and the more people have seen it. Rolling the ' +
    'token regularly bounds how long a silent leak stays useful.',
  remediation: 'Roll the token (Cloudflare dashboard → API Tokens → Roll), update its consumers, and put the next rotation on a schedule.',
  thresholds: { days: { default: 365, description: 'days since the token was issued or last modified (a roll modifies it)' } },
  async evaluate(ctx) {
    const days = numberSetting(ctx, 'days');
    // Rolling the secret updates modified_on, so the newer of the two dates is the secret's age (a policy edit also counts: lenient on purpose).
    const rows = await query<Row>(ctx, sql`
      select ${TOKEN_COLUMNS}, t.issued_on, t.modified_on, greatest(t.issued_on, t.modified_on) as changed
      from api_tokens t
      where ${liveToken(ctx.now)} and greatest(t.issued_on, t.modified_on) < ${daysBefore(ctx.now, days)}
      order by t.id`);
    return rows.map((r) => tokenHit(r, {
      issued_on: iso(r.issued_on),
      modified_on: iso(r.modified_on),
      age_days: ageDays(ctx.now, r.changed),
      threshold_days: days,
    }));
  },
};
