import { accessOnlyViaOrganization } from './access-only-via-organization.js';
import { account2faNotEnforced } from './account-2fa-not-enforced.js';
import { auditAdminMemberAdded } from './audit-admin-member-added.js';
import { auditFailedLoginBurst } from './audit-failed-login-burst.js';
import { auditIpNotAllowed } from './audit-ip-not-allowed.js';
import { auditTokenBroadGrant } from './audit-token-broad-grant.js';
import { denyCancelsAllow } from './deny-cancels-allow.js';
import { groupAdminTooMany } from './group-admin-too-many.js';
import { groupNoEffect } from './group-no-effect.js';
import { invite2faMismatch } from './invite-2fa-mismatch.js';
import { invitePending } from './invite-pending.js';
import { inviteStale } from './invite-stale.js';
import { memberNo2fa } from './member-no-2fa.js';
import { memberNoRoles } from './member-no-roles.js';
import { tokenBroadPolicy } from './token-broad-policy.js';
import { tokenExceedsOwner } from './token-exceeds-owner.js';
import { tokenExpiredPresent } from './token-expired-present.js';
import { tokenExpiring } from './token-expiring.js';
import { tokenMisconfigured } from './token-misconfigured.js';
import { tokenNeverUsed } from './token-never-used.js';
import { tokenNoExpiry } from './token-no-expiry.js';
import { tokenNoIpRestriction } from './token-no-ip-restriction.js';
import { tokenNotRotated } from './token-not-rotated.js';
import { tokenUnused } from './token-unused.js';
import { tokenUnusedWriteAccess } from './token-unused-write-access.js';
import { tooManySuperAdmins } from './too-many-super-admins.js';
import type { Rule } from './types.js';

/** Every built-in rule, in the order they run and are listed. */
export const BUILTIN_RULES: Rule[] = [
  tokenBroadPolicy,
  tokenExpiring,
  tokenExpiredPresent,
  tokenNoExpiry,
  tokenNoIpRestriction,
  tokenUnused,
  tokenUnusedWriteAccess,
  tokenNeverUsed,
  tokenNotRotated,
  tokenMisconfigured,
  memberNo2fa,
  account2faNotEnforced,
  tooManySuperAdmins,
  memberNoRoles,
  groupAdminTooMany,
  groupNoEffect,
  denyCancelsAllow,
  tokenExceedsOwner,
  accessOnlyViaOrganization,
  invitePending,
  inviteStale,
  invite2faMismatch,
  auditTokenBroadGrant,
  auditAdminMemberAdded,
  auditIpNotAllowed,
  auditFailedLoginBurst,
];
