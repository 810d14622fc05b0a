import { sql } from 'drizzle-orm';
import { at, daysSinceFact, isoFact, liveAccount, sqlRule, tokenFactsQuery } from './sql.js';

export const tokenExpiredPresent = sqlRule({
  id: 'token-expired-present',
  title: 'Expired API token still present',
  severity: 'low',
  controls: ['SOC2:CC6.2', 'ISO27001:A.5.18', 'PCI:8.2.6'],
  rationale:
    'An expired token cannot authenticate, but it stays listed with its permissions: it clutters reviews, hides ' +
    'which tokens are really in use, and can be mistaken for a live one (or renewed with the same broad rights).',
  remediation: 'Delete the expired token; if something still needs access, create a new, narrowly scoped token with an expiry.',
  // Cloudflare may keep status "active" for a while after expires_on: the date decides too.
  hitsQuery: (ctx) => tokenFactsQuery([
    { key: 'status', input: sql`t.status` }, isoFact('expires_on', sql`t.expires_on`),
    daysSinceFact(ctx.now, 'days_since_expiry', 'expires_on', sql`t.expires_on`), isoFact('last_used_on', sql`t.last_used_on`),
  ], (columns) => sql`
    select ${columns}
    from api_tokens t
    where t.deleted_at is null and (t.status = 'expired' or t.expires_on <= ${at(ctx.now)}) and ${liveAccount(sql`t.account_id`)}
    order by t.id`),
});
