// The stream kinds by name alone, without their implementations: the command line lists them
// (`sync --help`) without loading every stream's client and queries. The catalog is held to
// exactly these names by the type checker (catalog.ts `satisfies`).

/** What one credential sees of itself: `<kind>:<credential>`. */
export const CREDENTIAL_KINDS = [
  'accounts', 'user', 'user-tokens', 'user-invites', 'user-organizations', 'user-subscriptions',
  'billing-history', 'ip-access-rules', 'user-audit', 'organizations',
] as const;

/** The same for everyone: the bare kind. */
export const GLOBAL_KINDS = ['permission-groups'] as const;

/** One per account: `<kind>:<account id>`. */
export const ACCOUNT_KINDS = [
  'account-tokens', 'account-permission-groups', 'members', 'roles', 'account-subscriptions',
  'account-audit', 'account-audit-v1', 'user-groups', 'resource-groups', 'iam-permission-groups', 'zones',
] as const;

export const ALL_KINDS: string[] = [...CREDENTIAL_KINDS, ...GLOBAL_KINDS, ...ACCOUNT_KINDS];

/** What a stream name means (catalog.ts parseStream). */
export type StreamScope =
  | { type: 'credential'; kind: string; credential: string }
  | { type: 'account'; kind: string; accountId: string }
  | { type: 'global'; kind: string };
