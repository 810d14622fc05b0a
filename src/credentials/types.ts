import type { ApiAccess } from '../cloudflare/client.js';
import type { CredentialConfig } from '../config/credentials.js';

export const CREDENTIAL_KINDS = ['user-token', 'account-token', 'global-key'] as const;
export type CredentialKind = (typeof CREDENTIAL_KINDS)[number];

/** What a credential is, as detected (token prefix, then the verify endpoints, then /user). */
export interface Identity {
  kind: CredentialKind;
  /** Cloudflare's token status (active, disabled, expired), or 'active' for a global key that reached /user. */
  status: string;
  tokenId: string | null;
  expiresOn: string | null;
  notBefore: string | null;
  /** The user behind a user token or global key (null when the credential cannot read /user). */
  userId: string | null;
  userEmail: string | null;
  /** The account an account-owned token belongs to. */
  accountId: string | null;
  verifiedAt: string;
}

/** One credential at run time: its settings, what it turned out to be, and its paced HTTP access. */
export interface CredentialAccess {
  name: string;
  config: CredentialConfig;
  /** Set once detected in this process (preflight, or the first walk that needs it). */
  identity?: Identity | undefined;
  /** Requests of this credential, paced by the limiter of whatever Cloudflare counts it against. */
  api: ApiAccess;
  /**
   * Once the identity is known its requests count against its user's (or account token's) budget:
   * carry over what was spent under `previousKey` (the secret's hash) so that budget sees them too.
   */
  carryBudget(previousKey: string): Promise<void>;
}

/** The owner recorded on user-owned rows: the user id, or the credential when /user cannot be read. */
export const ownerOf = (c: Pick<CredentialAccess, 'name' | 'identity'>): string => c.identity?.userId ?? `credential:${c.name}`;

/** Whether a credential's kind can call /user/* at all (account-owned tokens cannot). */
export const canReachUser = (kind: CredentialKind): boolean => kind !== 'account-token';
