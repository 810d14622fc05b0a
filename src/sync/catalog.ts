import { accountsStream } from './accounts.js';
import { accountTokensStream } from './account-tokens.js';
import { accountAuditStream, accountAuditV1Stream, userAuditStream } from './audit-stream.js';
import { billingHistoryStream } from './billing-history.js';
import { ipAccessRulesStream } from './ip-access-rules.js';
import { membersStream } from './members.js';
import { accountPermissionGroupsStream, permissionGroupsStream } from './permission-groups.js';
import { rolesStream } from './roles.js';
import type { StreamJob } from './runner.js';
import { UsageError } from '../util/usage-error.js';
import { accountSubscriptionsStream, userSubscriptionsStream } from './subscriptions.js';
import { userStream } from './user.js';
import { userInvitesStream } from './user-invites.js';
import { userOrganizationsStream } from './user-organizations.js';
import { userTokensStream } from './user-tokens.js';

/** Streams walked once per credential. */
export const GLOBAL_STREAMS: Record<string, () => StreamJob> = {
  user: userStream,
  accounts: accountsStream,
  'user-tokens': userTokensStream,
  'permission-groups': permissionGroupsStream,
  'user-invites': userInvitesStream,
  'user-organizations': userOrganizationsStream,
  'user-subscriptions': userSubscriptionsStream,
  'billing-history': billingHistoryStream,
  'ip-access-rules': ipAccessRulesStream,
  'user-audit': userAuditStream,
};

/** Streams walked once per account (named `<kind>:<account id>`). */
export const ACCOUNT_STREAMS: Record<string, (accountId: string) => StreamJob> = {
  'account-tokens': accountTokensStream,
  'account-permission-groups': accountPermissionGroupsStream,
  members: membersStream,
  roles: rolesStream,
  'account-subscriptions': accountSubscriptionsStream,
  'account-audit': accountAuditStream,
  'account-audit-v1': accountAuditV1Stream,
};

export const ALL_KINDS = [...Object.keys(GLOBAL_STREAMS), ...Object.keys(ACCOUNT_STREAMS)];

export class UnknownStreamError extends UsageError {
  constructor(name: string) {
    super(`unknown stream "${name}"; known kinds: ${ALL_KINDS.join(', ')} (account kinds also as <kind>:<account id>)`);
  }
}

/** Turn a selection (kinds, or `kind:accountId`) into jobs; an empty selection means every stream. */
export function planStreams(selection: string[], accountIds: string[]): StreamJob[] {
  const wanted = selection.length ? selection : ALL_KINDS;
  const jobs: StreamJob[] = [];
  for (const name of wanted) {
    const [kind, accountId] = name.split(':', 2) as [string, string | undefined];
    if (GLOBAL_STREAMS[kind] && !accountId) jobs.push(GLOBAL_STREAMS[kind]());
    else if (ACCOUNT_STREAMS[kind]) {
      for (const id of accountId ? [accountId] : accountIds) jobs.push(ACCOUNT_STREAMS[kind](id));
    } else throw new UnknownStreamError(name);
  }
  return jobs;
}

/** Throws UnknownStreamError for a name that is no stream kind, before any work starts. */
export function validateSelection(names: string[]): void {
  planStreams(names, []);
}

export function needsAccounts(wanted: string[]): boolean {
  return wanted.some((n) => ACCOUNT_STREAMS[n] !== undefined);
}
