import { sql } from 'drizzle-orm';
import { isoFact, liveToken, sqlRule, tokenFactsQuery } from './sql.js';

export const tokenNoIpRestriction = sqlRule({
  id: 'token-no-ip-restriction',
  title: 'API token usable from any IP address',
  severity: 'medium',
  controls: ['SOC2:CC6.1', 'SOC2:CC6.6', 'ISO27001:A.5.15', 'ISO27001:A.8.5', 'PCI:7.2.5'],
  rationale:
    'Without a client-IP allow list (the request_ip "in" condition) a leaked token works from anywhere on the internet. ' +
    'A deny list ("not_in") alone does not restrict it: every other address is still allowed.',
  remediation:
    'Add a client IP address filter (Is in) with the egress ranges of the systems that use the token (CI runners, servers, office VPN).',
  hitsQuery: (ctx) => tokenFactsQuery([
    { key: 'ip_allow', input: sql`'[]'::jsonb` },
    { key: 'ip_deny', input: sql`t.ip_deny`, render: (deny) => sql`to_jsonb(coalesce(${deny}, '{}'::text[]))` },
    isoFact('last_used_on', sql`t.last_used_on`),
  ], (columns) => sql`
    select ${columns}
    from api_tokens t
    where ${liveToken(ctx.now)} and coalesce(cardinality(t.ip_allow), 0) = 0
    order by t.id`),
});
