import { sql } from 'drizzle-orm';
import { isoSql, liveToken, sqlRule, tokenHitColumns } from './sql.js';

export const tokenNoExpiry = sqlRule({
  id: 'token-no-expiry',
  title: 'API token never expires',
  severity: 'medium',
  controls: ['SOC2:CC6.1', 'ISO27001:A.5.17', 'PCI:8.6.3'],
  rationale:
    'A token without an expiry stays valid until someone remembers to delete it: a leaked copy (CI logs, a laptop, ' +
    'an old repository) keeps working for years.',
  remediation: 'Replace the token with one that has an expiry (TTL) matched to its use, and rotate it before it expires.',
  hitsQuery: (ctx) => sql`
    select ${tokenHitColumns(sql`'expires_on', null, 'issued_on', ${isoSql(sql`t.issued_on`)}, 'last_used_on', ${isoSql(sql`t.last_used_on`)}`)}
    from api_tokens t
    where ${liveToken(ctx.now)} and t.expires_on is null
    order by t.id`,
});
