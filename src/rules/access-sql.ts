import { type SQL, sql } from 'drizzle-orm';
import { pathText } from '../access/sql.js';
import { bind } from './sql.js';

export { pathText };

// What the rules about "who has X" share: they read the access model (effective_access, migration
// 0017; docs/access-model.md) and never work access out on their own.

/** Lower-cased permission group names holding a capability of the vocabulary (access_capabilities). */
export const capabilityGroups = (capability: string) =>
  sql`(select lower(c.permission_group_name) from access_capabilities c where c.capability = ${bind(capability)})`;

/** True when effective_access row `e` is of a permission group holding the capability, or named like one of the ILIKE patterns. */
export const grantsCapability = (capability: string, patterns: string[] = []) =>
  sql`(lower(e.permission_group_name) in ${capabilityGroups(capability)}${patterns.length ? sql` or e.permission_group_name ilike any(${bind(patterns)}::text[])` : sql``})`;

/** The resource key of a member principal: `member:<account>:<member id>` (an organization-only principal keeps its organization-member id). */
export const principalKey = (e: SQL = sql`e`) => sql`('member:' || ${e}.account_id || ':' || ${e}.principal_id)`;
