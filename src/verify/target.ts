import type { ArchiveFilter } from '../db/queries/audit-verifications.js';
import { type AuditStreamSpec, accountAuditSpec, accountAuditV1Spec, userAuditSpec } from '../sync/audit-stream.js';
import type { StreamScope } from '../sync/catalog.js';
import type { Identity } from '../credentials/types.js';

/** How to read one audit stream from Cloudflare, and which archived rows are its. */
export interface AuditTarget {
  spec: AuditStreamSpec;
  filter: ArchiveFilter;
}

export function auditTarget(scope: StreamScope, identity: Identity): AuditTarget | undefined {
  if (scope.type === 'credential' && scope.kind === 'user-audit') {
    // v1 user entries name their user as owner: the archive keeps it in account_id.
    return { spec: userAuditSpec(scope.credential), filter: { source: 'user_v1', accountId: identity.userId } };
  }
  if (scope.type === 'account' && scope.kind === 'account-audit') return { spec: accountAuditSpec(scope.accountId), filter: { source: 'account_v2', accountId: scope.accountId } };
  if (scope.type === 'account' && scope.kind === 'account-audit-v1') return { spec: accountAuditV1Spec(scope.accountId), filter: { source: 'account_v1', accountId: scope.accountId } };
  return undefined;
}
