import { sql } from 'drizzle-orm';
import { ageDaysSql, at, isoSql, liveAccount, sqlRule, tokenHitColumns } from './sql.js';

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
  hitsQuery: (ctx) => sql`
    select ${tokenHitColumns(sql`'status', t.status, 'expires_on', ${isoSql(sql`t.expires_on`)},
                                                   'days_since_expiry', ${ageDaysSql(ctx.now, sql`t.expires_on`)}, 'last_used_on', ${isoSql(sql`t.last_used_on`)}`)}
    from api_tokens t
    where t.deleted_at is null and (t.status = 'expired' or t.expires_on <= ${at(ctx.now)}) and ${liveAccount(sql`t.account_id`)}
    order by t.id`,
});
