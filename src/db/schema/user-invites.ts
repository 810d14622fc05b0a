import { boolean, pgTable, text } from 'drizzle-orm/pg-core';
import { syncColumns, ts } from './columns.js';

/** GET /user/invites: invitations addressed to the credential's user. */
export const userInvites = pgTable('user_invites', {
  id: text('id').primaryKey(),
  /** The user (or `credential:<name>`) the listing belongs to. */
  userId: text('user_id'),
  organizationId: text('organization_id'),
  organizationName: text('organization_name'),
  organizationEnforcesTwofactor: boolean('organization_enforces_twofactor'),
  invitedMemberId: text('invited_member_id'),
  invitedMemberEmail: text('invited_member_email'),
  invitedBy: text('invited_by'),
  invitedOn: ts('invited_on'),
  expiresOn: ts('expires_on'),
  status: text('status'),
  roles: text('roles').array(),
  ...syncColumns,
});
