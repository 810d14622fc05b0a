import type { CredentialKind } from './types.js';

/**
 * Which credential walks an account that several can reach (documented in the README):
 * the account's own account-owned token first (scoped to exactly that account, with a rate
 * budget of its own), then user tokens, then a global key; among equals, the first in the
 * configuration. A credential that fails verification is passed over for the next.
 */
const KIND_RANK: Record<CredentialKind, number> = { 'account-token': 0, 'user-token': 1, 'global-key': 2 };

export function byPreference<T extends { name: string; kind: CredentialKind | undefined }>(candidates: T[], configOrder: string[]): T[] {
  const rank = (c: T) => (c.kind ? KIND_RANK[c.kind] : 3);
  return [...candidates].sort((a, b) => rank(a) - rank(b) || configOrder.indexOf(a.name) - configOrder.indexOf(b.name));
}
