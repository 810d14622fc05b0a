import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { TOKEN_COLUMNS, type TokenRow, iso, liveToken, query, tokenHit, type Timestamp } from './sql.js';

interface Row extends TokenRow { issued_on: Timestamp | null; last_used_on: Timestamp | null }

export const tokenNoExpiry: Rule = {
  id: 'token-no-expiry',
  title: 'API token never expires',
  severity: 'medium',
  controls: ['SOC2:CC6.1', 'ISO27001:A.5.17', 'PCI:8.6.3'],
  rationale:
    'A token without an expiry stays valid until someone remembers to delete it: a leaked copy (CI logs, a laptop, ' +
    'an old repository) keeps working for years.',
  remediation: 'Replace the token with one that has an expiry (TTL) matched to its use, and rotate it before it expires.',
  async evaluate(ctx) {
    const rows = await query<Row>(ctx, sql`
      select ${TOKEN_COLUMNS}, t.issued_on, t.last_used_on
      from api_tokens t
      where ${liveToken(ctx.now)} and t.expires_on is null
      order by t.id`);
    return rows.map((r) => tokenHit(r, { expires_on: null, issued_on: iso(r.issued_on), last_used_on: iso(r.last_used_on) }));
  },
};
