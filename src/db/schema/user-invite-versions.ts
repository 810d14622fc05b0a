import { boolean, index, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';
import { versionColumns } from './version-columns.js';

/** Every state of every invitation addressed to a credential's user, over time. */
export const userInviteVersions = pgTable(
  'user_invite_versions',
  {
    ...versionColumns,
    inviteId: text('invite_id').notNull(),
    /** The user (or `credential:<name>`) the invitation was listed for. */
    userId: text('user_id'),
    organizationId: text('organization_id'),
    organizationName: text('organization_name'),
    organizationEnforcesTwofactor: boolean('organization_enforces_twofactor'),
    invitedMemberEmail: text('invited_member_email'),
    invitedBy: text('invited_by'),
    invitedOn: ts('invited_on'),
    expiresOn: ts('expires_on'),
    status: text('status'),
    roles: text('roles').array(),
  },
  (t) => [index('user_invite_versions_invite_idx').on(t.inviteId, t.validFrom)],
);
