import { type SQL, sql } from 'drizzle-orm';

// SQL over the access model shared by rules and reviews.

/** One access row in words, as facts show it: "Administrator via group Platform Admins, policy 3". */
export const pathText = (e: SQL = sql`e`) => sql`(${e}.permission_group_name || ' via ' || case ${e}.path
  when 'role' then 'role'
  when 'policy' then 'own policy ' || coalesce(${e}.policy_id, '?')
  when 'group' then 'group ' || coalesce(${e}.group_name, ${e}.group_id) || ', policy ' || coalesce(${e}.policy_id, '?')
  when 'organization' then 'organization ' || ${e}.organization_id
  else 'token policy ' || coalesce(${e}.policy_id, '?') end
  || case ${e}.resource_kind when 'zone' then ' on zone ' || coalesce(${e}.zone_name, ${e}.zone_id) when 'all_zones' then ' on all zones' else '' end)`;

