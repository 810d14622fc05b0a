import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { TOKEN_COLUMNS, type TokenRow, at, iso, query, tokenHit, type Timestamp, ageDays, liveAccount } from './sql.js';

interface Row extends TokenRow { status: string | null; expires_on: Timestamp | null; last_used_on: Timestamp | null }

export const tokenExpiredPresent: Rule = {
  id: 'token-expired-present',
  title: 'Expired API token still present',
  severity: 'low',
  controls: ['SOC2:CC6.2', 'ISO27001:A.5.18', 'PCI:8.2.6'],
  rationale:
    'An expired token cannot authenticate, but it stays listed with its permissions: it clutters reviews, hides ' +
    'which tokens are really in use, and can be mistaken for a live one (or renewed with the same broad rights).',
  remediation: 'Delete the expired token; if something still needs access, create a new, narrowly scoped token with an expiry.',
  async evaluate(ctx) {
    // Cloudflare may keep status "active" for a while after expires_on: the date decides too.
    const rows = await query<Row>(ctx, sql`
      select ${TOKEN_COLUMNS}, t.status, t.expires_on, t.last_used_on
      from api_tokens t
      where t.deleted_at is null and (t.status = 'expired' or t.expires_on <= ${at(ctx.now)}) and ${liveAccount(sql`t.account_id`)}
      order by t.id`);
    return rows.map((r) => tokenHit(r, {
      status: r.status,
      expires_on: iso(r.expires_on),
      days_since_expiry: r.expires_on ? ageDays(ctx.now, r.expires_on) : null,
      last_used_on: iso(r.last_used_on),
    }));
  },
};
