import { sql } from 'drizzle-orm';
import { isoFact, liveToken, sqlRule, tokenFactsQuery } from './sql.js';

export const tokenNoExpiry = sqlRule({
  id: 'token-no-expiry',
  title: 'API token never expires',
  severity: 'medium',
  controls: ['SOC2:CC6.1', 'ISO27001:A.5.17', 'PCI:8.6.3'],
  rationale:
    'A token without an expiry stays valid until someone remembers to delete it: a leaked copy (CI logs, a laptop, ' +
    'an old repository) keeps working for years.',
  remediation: 'Replace the token with one that has an expiry (TTL) matched to its use, and rotate it before it expires.',
  hitsQuery: (ctx) => tokenFactsQuery([
    { key: 'expires_on', input: sql`null::text` }, isoFact('issued_on', sql`t.issued_on`), isoFact('last_used_on', sql`t.last_used_on`),
  ], (columns) => sql`
    select ${columns}
    from api_tokens t
    where ${liveToken(ctx.now)} and t.expires_on is null
    order by t.id`),
});
