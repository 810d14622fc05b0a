import { index, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';

// The permission vocabulary (docs/access-model.md rule 9): src/access/vocabulary.json, written
// into these tables by every `flarewatch migrate`, so SQL can ask "who can edit DNS" by capability.

/** One capability × one permission group (member role, policy permission group or token permission group) holding it. */
export const accessCapabilities = pgTable(
  'access_capabilities',
  {
    capability: text('capability').notNull(),
    /** Compared case-insensitively with effective_access.permission_group_name. */
    permissionGroupName: text('permission_group_name').notNull(),
    description: text('description'),
  },
  (t) => [primaryKey({ columns: [t.capability, t.permissionGroupName] }), index('access_capabilities_group_idx').on(t.permissionGroupName)],
);

/** Other spellings of a capability (`dns.write` for `dns:edit`). */
export const accessCapabilityAliases = pgTable('access_capability_aliases', {
  alias: text('alias').primaryKey(),
  capability: text('capability').notNull(),
});
