import { type SQL, sql } from 'drizzle-orm';
import { bind } from './sql.js';

// What the rules about "who has X" share: they read the access model (effective_access, migration
// 0017; docs/access-model.md) and never work access out on their own.

/** Lower-cased permission group names holding a capability of the vocabulary (access_capabilities). */
export const capabilityGroups = (capability: string) =>
  sql`(select lower(c.permission_group_name) from access_capabilities c where c.capability = ${bind(capability)})`;

/** True when effective_access row `e` is of a permission group holding the capability, or named like one of the ILIKE patterns. */
export const grantsCapability = (capability: string, patterns: string[] = []) =>
  sql`(lower(e.permission_group_name) in ${capabilityGroups(capability)}${patterns.length ? sql` or e.permission_group_name ilike any(${bind(patterns)}::text[])` : sql``})`;

/** One access row in words, as facts show it: "Administrator via group Platform Admins, policy 3". */
export const pathText = (e: SQL = sql`e`) => sql`(${e}.permission_group_name || ' via ' || case ${e}.path
  when 'role' then 'role'
  when 'policy' then 'own policy ' || coalesce(${e}.policy_id, '?')
  when 'group' then 'group ' || coalesce(${e}.group_name, ${e}.group_id) || ', policy ' || coalesce(${e}.policy_id, '?')
  when 'organization' then 'organization ' || ${e}.organization_id
  else 'token policy ' || coalesce(${e}.policy_id, '?') end
  || case ${e}.resource_kind when 'zone' then ' on zone ' || coalesce(${e}.zone_name, ${e}.zone_id) when 'all_zones' then ' on all zones' else '' end)`;

/** The resource key of a member principal: `member:<account>:<member id>` (an organization-only principal keeps its organization-member id). */
export const principalKey = (e: SQL = sql`e`) => sql`('member:' || ${e}.account_id || ':' || ${e}.principal_id)`;
