import { sql } from 'drizzle-orm';
import type { VersionTracker } from '../db/queries/versions.js';
import {
  accountMemberVersions, accountMembers, accounts, accountVersions, apiTokens, apiTokenVersions, organizationAccounts, organizationAccountVersions,
  organizationMembers, organizationMemberVersions, resourceGroups, resourceGroupVersions, userGroupMembers, userGroupMemberVersions, userGroups,
  userGroupVersions, userInvites, userInviteVersions,
} from '../db/schema/index.js';

// What a change is, per tracked table: the access-relevant columns. Columns that move on their
// own (last_used_on, modified_on, last_seen_at, raw) are not history: a token used every minute
// would otherwise be a new version every sync.

type Shared<A, B> = Extract<keyof A, keyof B> & string;

function historyOf<S extends VersionTracker['table'], V extends VersionTracker['versions']>(t: {
  table: S; key: VersionTracker['key']; versions: V; versionKey: VersionTracker['versionKey'];
  tracked: Array<Shared<S['$inferSelect'], V['$inferSelect']>>; context: Array<Shared<S['$inferSelect'], V['$inferSelect']>>;
  untracked?: VersionTracker['untracked'];
}): VersionTracker {
  return t;
}

export const tokenHistory = historyOf({
  table: apiTokens, key: apiTokens.id, versions: apiTokenVersions, versionKey: apiTokenVersions.tokenId,
  tracked: ['name', 'status', 'expiresOn', 'notBefore', 'policies', 'ipAllow', 'ipDeny'],
  context: ['ownerType', 'accountId', 'userId'],
  // Known only from the credential's verify answer (no policies): history starts when a listing returns it.
  untracked: sql`coalesce(t.raw ->> 'flarewatch_source', '') = 'tokens/verify'`,
});

export const memberHistory = historyOf({
  table: accountMembers, key: accountMembers.id, versions: accountMemberVersions, versionKey: accountMemberVersions.memberId,
  tracked: ['status', 'roleIds', 'roleNames', 'policies', 'twoFactorEnabled', 'email', 'userId'],
  context: ['accountId'],
});

export const accountHistory = historyOf({
  table: accounts, key: accounts.id, versions: accountVersions, versionKey: accountVersions.accountId,
  tracked: ['name', 'type', 'enforceTwofactor'],
  context: [],
});

export const inviteHistory = historyOf({
  table: userInvites, key: userInvites.id, versions: userInviteVersions, versionKey: userInviteVersions.inviteId,
  tracked: ['status', 'roles', 'expiresOn', 'invitedOn', 'organizationName', 'organizationEnforcesTwofactor', 'invitedMemberEmail', 'invitedBy'],
  context: ['userId', 'organizationId'],
});

// Access paths besides roles and token policies: what effective_access_at(t) rebuilds a past picture from.

export const userGroupHistory = historyOf({
  table: userGroups, key: userGroups.id, versions: userGroupVersions, versionKey: userGroupVersions.groupId,
  tracked: ['name', 'policies'],
  context: ['accountId'],
});

/** A membership's versions: created when a member joins a group, closed when it leaves. */
export const userGroupMemberHistory = historyOf({
  table: userGroupMembers, key: userGroupMembers.id, versions: userGroupMemberVersions, versionKey: userGroupMemberVersions.membershipId,
  tracked: ['status', 'email'],
  context: ['groupId', 'memberId', 'accountId'],
});

export const resourceGroupHistory = historyOf({
  table: resourceGroups, key: resourceGroups.id, versions: resourceGroupVersions, versionKey: resourceGroupVersions.resourceGroupId,
  tracked: ['name', 'scopeKey', 'objectKeys'],
  context: ['accountId'],
});

export const organizationMemberHistory = historyOf({
  table: organizationMembers, key: organizationMembers.id, versions: organizationMemberVersions, versionKey: organizationMemberVersions.membershipId,
  tracked: ['status', 'email', 'userId', 'twoFactorEnabled'],
  context: ['organizationId', 'memberId'],
});

export const organizationAccountHistory = historyOf({
  table: organizationAccounts, key: organizationAccounts.id, versions: organizationAccountVersions, versionKey: organizationAccountVersions.linkId,
  tracked: ['accountName'],
  context: ['organizationId', 'accountId'],
});
