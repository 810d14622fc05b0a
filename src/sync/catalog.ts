import { accountsStream } from './accounts.js';
import { accountTokensStream } from './account-tokens.js';
import { accountAuditStream, accountAuditV1Stream, userAuditStream } from './audit-stream.js';
import { billingHistoryStream } from './billing-history.js';
import { ipAccessRulesStream } from './ip-access-rules.js';
import { iamPermissionGroupsStream } from './iam-permission-groups.js';
import { membersStream } from './members.js';
import { organizationsStream } from './organizations.js';
import { resourceGroupsStream } from './resource-groups.js';
import { userGroupsStream } from './user-groups.js';
import { zonesStream } from './zones.js';
import { accountPermissionGroupsStream, permissionGroupsStream } from './permission-groups.js';
import { rolesStream } from './roles.js';
import type { StreamJob } from './walk.js';
import { UsageError } from '../util/usage-error.js';
import { accountSubscriptionsStream, userSubscriptionsStream } from './subscriptions.js';
import { userStream } from './user.js';
import { userInvitesStream } from './user-invites.js';
import { userOrganizationsStream } from './user-organizations.js';
import { userTokensStream } from './user-tokens.js';
import { ACCOUNT_KINDS, ALL_KINDS, CREDENTIAL_KINDS, GLOBAL_KINDS, type StreamScope } from './kinds.js';

export { ALL_KINDS };

/**
 * Every stream kind, by what scopes it. A stream's name is its key: `<kind>:<credential>` for
 * what one credential sees of itself (its user's tokens, invites, audit log; the accounts it
 * reaches), `<kind>:<account id>` for an account (walked once, by one credential), and the bare
 * kind for what is the same for everyone (the permission-group catalog).
 */
export const CREDENTIAL_STREAMS: Record<string, (credential: string) => StreamJob> = {
  accounts: accountsStream,
  user: userStream,
  'user-tokens': userTokensStream,
  'user-invites': userInvitesStream,
  'user-organizations': userOrganizationsStream,
  'user-subscriptions': userSubscriptionsStream,
  'billing-history': billingHistoryStream,
  'ip-access-rules': ipAccessRulesStream,
  'user-audit': userAuditStream,
  organizations: organizationsStream,
} satisfies Record<(typeof CREDENTIAL_KINDS)[number], (credential: string) => StreamJob>;

/**
 * Credential streams an account-owned token cannot walk: the /user endpoints, and /organizations, whose
 * only token permission (x-api-token-group) is User Details Read/Write, a user-level permission no
 * account-owned token can hold.
 */
export const USER_LEVEL_KINDS = Object.keys(CREDENTIAL_STREAMS).filter((k) => k !== 'accounts');

/** Why a user-level stream is not applicable to an account-owned token. */
export const notApplicableReason = (kind: string, credential: string) => kind === 'organizations'
  ? `credential "${credential}" is an account-owned token, which cannot hold User Details Read, the permission /organizations needs`
  : `credential "${credential}" is an account-owned token, which cannot call /user endpoints`;

export const GLOBAL_STREAMS: Record<string, () => StreamJob> = {
  'permission-groups': permissionGroupsStream,
} satisfies Record<(typeof GLOBAL_KINDS)[number], () => StreamJob>;

export const ACCOUNT_STREAMS: Record<string, (accountId: string) => StreamJob> = {
  'account-tokens': accountTokensStream,
  'account-permission-groups': accountPermissionGroupsStream,
  members: membersStream,
  roles: rolesStream,
  'account-subscriptions': accountSubscriptionsStream,
  'account-audit': accountAuditStream,
  'account-audit-v1': accountAuditV1Stream,
  'user-groups': userGroupsStream,
  'resource-groups': resourceGroupsStream,
  'iam-permission-groups': iamPermissionGroupsStream,
  zones: zonesStream,
} satisfies Record<(typeof ACCOUNT_KINDS)[number], (accountId: string) => StreamJob>;

export const AUDIT_KINDS = ALL_KINDS.filter((k) => k.includes('audit'));
export const INVENTORY_KINDS = ALL_KINDS.filter((k) => !k.includes('audit'));

export class UnknownStreamError extends UsageError {
  constructor(name: string, why?: string) {
    super(
      why
        ? `stream "${name}": ${why}`
        : `unknown stream "${name}"; known kinds: ${ALL_KINDS.join(', ')} (as <kind>:<credential> or <kind>:<account id> for one)`,
    );
  }
}

export type { StreamScope };

/** What a stream name means; throws UnknownStreamError for a name that is no stream. */
export function parseStream(name: string): StreamScope {
  const [kind, arg, extra] = name.split(':') as [string, string | undefined, string | undefined];
  if (extra !== undefined || arg === '') throw new UnknownStreamError(name);
  if (CREDENTIAL_STREAMS[kind] && arg) return { type: 'credential', kind, credential: arg };
  if (ACCOUNT_STREAMS[kind] && arg) return { type: 'account', kind, accountId: arg };
  if (GLOBAL_STREAMS[kind] && !arg) return { type: 'global', kind };
  if (GLOBAL_STREAMS[kind]) throw new UnknownStreamError(name, `${kind} is the same for every credential; name it without a scope`);
  if (CREDENTIAL_STREAMS[kind] || ACCOUNT_STREAMS[kind]) throw new UnknownStreamError(name, `a single stream of kind ${kind} needs its scope (${CREDENTIAL_STREAMS[kind] ? 'a credential name' : 'an account id'})`);
  throw new UnknownStreamError(name);
}

/** The job that walks a stream, from its name. */
export function streamJob(name: string): StreamJob {
  const s = parseStream(name);
  if (s.type === 'credential') return CREDENTIAL_STREAMS[s.kind]!(s.credential);
  if (s.type === 'account') return ACCOUNT_STREAMS[s.kind]!(s.accountId);
  return GLOBAL_STREAMS[s.kind]!();
}

/** Check a selection (kinds, or full stream names) before any work starts. */
export function validateSelection(names: string[], credentials: string[]): void {
  for (const name of names) {
    if (!name.includes(':')) {
      if (!ALL_KINDS.includes(name)) throw new UnknownStreamError(name);
      continue;
    }
    const s = parseStream(name);
    if (s.type === 'credential' && !credentials.includes(s.credential)) {
      throw new UnknownStreamError(name, `no credential named "${s.credential}" is configured (have: ${credentials.join(', ') || 'none'})`);
    }
  }
}
