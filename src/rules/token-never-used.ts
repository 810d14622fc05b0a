import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { TOKEN_COLUMNS, type TokenRow, daysBefore, iso, liveToken, numberSetting, query, tokenHit, type Timestamp, ageDays } from './sql.js';

interface Row extends TokenRow { issued_on: Timestamp | null; since: Timestamp; since_source: string }

export const tokenNeverUsed: Rule = {
  id: 'token-never-used',
  title: 'API token never used since it was created',
  severity: 'low',
  controls: ['SOC2:CC6.2', 'ISO27001:A.5.18', 'PCI:8.2.6'],
  rationale:
    'A token created weeks ago and never used was probably made for a test or a plan that changed; it is a working ' +
    'credential with no purpose, and the first use of a forgotten token is more likely an attacker than its owner.',
  remediation: 'Ask the creator whether it is still needed; delete it if not. Create tokens when the system that uses them is ready.',
  thresholds: { days: { default: 30, description: 'days since issue after which a never-used token is reported' } },
  async evaluate(ctx) {
    const days = numberSetting(ctx, 'days');
    // issued_on is Cloudflare's; when missing, the first time flarewatch saw the token is a lower bound of its age.
    const rows = await query<Row>(ctx, sql`
      select ${TOKEN_COLUMNS}, t.issued_on, coalesce(t.issued_on, t.first_seen_at) as since,
             case when t.issued_on is null then 'first_seen_at' else 'issued_on' end as since_source
      from api_tokens t
      where ${liveToken(ctx.now)} and t.last_used_on is null and coalesce(t.issued_on, t.first_seen_at) < ${daysBefore(ctx.now, days)}
      order by t.id`);
    return rows.map((r) => tokenHit(r, {
      last_used_on: null,
      issued_on: iso(r.issued_on),
      age_days: ageDays(ctx.now, r.since),
      age_from: r.since_source,
      threshold_days: days,
    }));
  },
};
