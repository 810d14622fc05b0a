import type { IssueSpec } from './options.js';
import { rngFor, type Rng } from './prng.js';
import { credentialPolicies, isExpired, type Token } from './tokens.js';
import type { World } from './world.js';

export type { IssueSpec };

/** The simulator's own credentials (the owner's token, e-mail and global key); `deny` lists the route keys ('GET /user') they do not cover (403). */
export interface SimCredentials { apiToken: string; email: string; apiKey: string; deny: string[] }

/** What a client needs to use an issued credential (a local test secret, safe to print). */
export type IssuedCredential =
  | { kind: 'user-token'; value: string; tokenId: string; userId: string }
  | { kind: 'account-token'; value: string; tokenId: string; accountId: string }
  | { kind: 'global-key'; email: string; apiKey: string; userId: string };

/**
 * Who is calling, once a credential is recognised. `bucket` is the rate-limit key: Cloudflare counts per user
 * (tokens and global key of one user share it) and per account-owned token.
 */
export type Principal =
  | { kind: 'user-token'; userId: string; tokenId: string; deny: string[]; bucket: string }
  /** `provisioner`: sees only the account tokens it created (see IssueSpec). */
  | { kind: 'account-token'; accountId: string; tokenId: string; deny: string[]; bucket: string; provisioner?: boolean }
  | { kind: 'global-key'; userId: string; deny: string[]; bucket: string };

interface TokenRecord { kind: 'user-token' | 'account-token'; ownerId: string; tokenId: string; deny: string[]; provisioner?: boolean }
interface KeyRecord { userId: string; email: string; apiKey: string; deny: string[] }

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const secret = (rng: Rng, length = 40) => Array.from({ length }, () => ALPHABET[Math.floor(rng() * 64)]).join('');
const userBucket = (userId: string) => `user:${userId}`;

/**
 * The credentials the server accepts: the default token and key (live from `defaults`, which tests mutate)
 * plus every issued one. A token credential stands for a token object of the world: once that token is
 * removed, disabled, expired or not yet valid, the credential stops working.
 */
export class CredentialStore {
  private readonly tokens = new Map<string, TokenRecord>();
  private readonly keys = new Map<string, KeyRecord>();
  /** Secrets a roll replaced: refused from then on, the default one included. */
  private readonly rolled = new Set<string>();
  private issued = 0;

  constructor(private readonly world: World, private readonly defaults: SimCredentials, private readonly seed: number,
    private readonly now: () => number) {}

  issue(spec: IssueSpec): IssuedCredential {
    if ('expiresOn' in spec && spec.expiresOn !== undefined && Number.isNaN(Date.parse(spec.expiresOn))) {
      throw new Error(`expiresOn must be an RFC 3339 date-time, got ${spec.expiresOn}`);
    }
    if (spec.kind === 'global-key') return this.issueKey(spec.user ?? 0);
    const rng = rngFor(this.seed, 'credential', this.issued++);
    if (spec.kind === 'user-token') {
      const index = spec.user ?? 0;
      const owner = this.userAt(index);
      const token = this.userToken(index, spec.tokenId, spec.expiresOn);
      const value = `${spec.prefix ? 'cfut_' : ''}${secret(rng)}`;
      this.tokens.set(value, { kind: 'user-token', ownerId: owner.user.id, tokenId: token.id, deny: [...(spec.deny ?? [])] });
      return { kind: 'user-token', value, tokenId: token.id, userId: owner.user.id };
    }
    const account = typeof spec.account === 'number' ? this.world.accounts[spec.account] : this.world.account(spec.account);
    if (!account) throw new Error(`no account ${String(spec.account)}`);
    const creator = this.userAt(0).user;
    const token = this.world.addAccountToken(account.id, {
      name: 'flarewatch read-only', policies: credentialPolicies(rng, { accountId: account.id }),
      ...(spec.expiresOn ? { expires_on: spec.expiresOn } : {}),
      // Only Super Administrators create account tokens; the owner is the one the world has.
      creator_email_at_creation: creator.email, provisioner_type: 'user', provisioner_id: creator.id,
    });
    const value = `${spec.prefix ? 'cfat_' : ''}${secret(rng)}`;
    this.tokens.set(value, { kind: 'account-token', ownerId: account.id, tokenId: token.id, deny: [...(spec.deny ?? [])], provisioner: spec.provisioner === true });
    return { kind: 'account-token', value, tokenId: token.id, accountId: account.id };
  }

  /**
   * From now on `c` lacks the permissions behind `routes` (403, 10000): the live deny list of an issued
   * credential, or of the default token and key for 'default'.
   */
  deny(c: IssuedCredential | 'default', routes: string[]): void {
    const list = this.denyList(c, 'deny');
    for (const r of routes) if (!list.includes(r)) list.push(r);
  }

  /** From now on `c` holds the permissions behind `routes` again (an administrator granted them back). */
  allow(c: IssuedCredential | 'default', routes: string[]): void {
    const list = this.denyList(c, 'allow');
    for (const r of routes) if (list.includes(r)) list.splice(list.indexOf(r), 1);
  }

  private denyList(c: IssuedCredential | 'default', op: string): string[] {
    const list = c === 'default' ? this.defaults.deny
      : c.kind === 'global-key' ? (c.userId === this.userAt(0).user.id ? this.defaults.deny : [...this.keys.values()].find((k) => k.userId === c.userId)?.deny)
      : this.tokens.get(c.value)?.deny;
    if (!list) throw new Error(`${op}: no such credential`);
    return list;
  }

  /**
   * PUT …/tokens/{id}/value: every secret of that token stops working and one new secret, bound to the
   * same token object, takes their place. Returns the new secret (the only time it is ever shown).
   */
  roll(tokenId: string, owner: { kind: 'user-token' | 'account-token'; ownerId: string }): string {
    const value = secret(rngFor(this.seed, 'roll', this.issued++, tokenId));
    let rec: TokenRecord = { kind: owner.kind, ownerId: owner.ownerId, tokenId, deny: [] };
    for (const [v, r] of this.tokens) if (r.tokenId === tokenId) { rec = r; this.tokens.delete(v); this.rolled.add(v); }
    if (tokenId === this.world.credentialTokenId && owner.kind === 'user-token') {
      rec = { kind: 'user-token', ownerId: owner.ownerId, tokenId, deny: this.defaults.deny };
      this.rolled.add(this.defaults.apiToken);
    }
    this.tokens.set(value, rec);
    return value;
  }

  /** The principal behind a bearer value, or undefined when the server must refuse it (unknown or dead token). */
  byToken(value: string): Principal | undefined {
    const d = this.defaults;
    if (this.rolled.has(value)) return undefined;
    const rec: TokenRecord | undefined = value === d.apiToken
      ? { kind: 'user-token', ownerId: this.userAt(0).user.id, tokenId: this.world.credentialTokenId, deny: d.deny }
      : this.tokens.get(value);
    if (!rec) return undefined;
    const list = rec.kind === 'user-token' ? this.world.userById(rec.ownerId)?.tokens ?? [] : this.world.accountTokens(rec.ownerId);
    const token = list.find((t) => t.id === rec.tokenId);
    if (!token || !usable(token, this.now())) return undefined;
    if (rec.kind === 'account-token') {
      return { kind: 'account-token', accountId: rec.ownerId, tokenId: rec.tokenId, deny: rec.deny, bucket: `account-token:${rec.tokenId}`,
        ...(rec.provisioner ? { provisioner: true } : {}) };
    }
    return { kind: 'user-token', userId: rec.ownerId, tokenId: rec.tokenId, deny: rec.deny, bucket: userBucket(rec.ownerId) };
  }

  /** The principal behind X-Auth-Email + X-Auth-Key (email case-insensitive, as Cloudflare compares it). */
  byKey(email: string, apiKey: string): Principal | undefined {
    const d = this.defaults;
    if (email.toLowerCase() === d.email.toLowerCase() && apiKey === d.apiKey) {
      const userId = this.userAt(0).user.id;
      return { kind: 'global-key', userId, deny: d.deny, bucket: userBucket(userId) };
    }
    for (const rec of this.keys.values()) {
      if (rec.email.toLowerCase() === email.toLowerCase() && rec.apiKey === apiKey) {
        return { kind: 'global-key', userId: rec.userId, deny: rec.deny, bucket: userBucket(rec.userId) };
      }
    }
    return undefined;
  }

  /** One global key per user: user 0's is the default one; asking again returns the same key. */
  private issueKey(index: number): IssuedCredential {
    const u = this.userAt(index).user;
    if (index === 0) return { kind: 'global-key', email: this.defaults.email, apiKey: this.defaults.apiKey, userId: u.id };
    let rec = this.keys.get(u.id);
    if (!rec) {
      rec = { userId: u.id, email: u.email, apiKey: secret(rngFor(this.seed, 'global-key', u.id)), deny: [] };
      this.keys.set(u.id, rec);
    }
    return { kind: 'global-key', email: rec.email, apiKey: rec.apiKey, userId: u.id };
  }

  /** The token a user-token credential stands for: an existing one named by id, else a new read-only one. */
  private userToken(index: number, tokenId: string | undefined, expiresOn: string | undefined): Token {
    const owner = this.userAt(index);
    const existing = tokenId === undefined ? undefined : owner.tokens.find((t) => t.id === tokenId);
    if (existing) return expiresOn ? this.world.updateToken(existing.id, { expires_on: expiresOn }) : existing;
    const rng = rngFor(this.seed, 'credential-token', this.issued);
    return this.world.addUserToken({
      name: 'flarewatch read-only', policies: credentialPolicies(rng, { userId: owner.user.id, accountIds: owner.accountIds }),
      ...(tokenId ? { id: tokenId } : {}), ...(expiresOn ? { expires_on: expiresOn } : {}),
    }, index);
  }

  private userAt(index: number) {
    const u = this.world.users[index];
    if (!u) throw new Error(`no user ${index} (the world has ${this.world.users.length})`);
    return u;
  }
}

/** One line per issued credential, for `flarewatch simulator` (values included: they are local test secrets). */
export function describeSimCredential(c: IssuedCredential): string {
  if (c.kind === 'global-key') return `global-key user=${c.userId} CLOUDFLARE_EMAIL=${c.email} CLOUDFLARE_API_KEY=${c.apiKey}`;
  const owner = c.kind === 'user-token' ? `user=${c.userId}` : `account=${c.accountId}`;
  return `${c.kind} ${owner} token_id=${c.tokenId} CLOUDFLARE_API_TOKEN=${c.value}`;
}

/** Cloudflare accepts a token only while active, past not_before and before expires_on. */
function usable(t: Token, now: number): boolean {
  return t.status === 'active' && !isExpired(t, now) && (t.not_before === undefined || Date.parse(t.not_before) <= now);
}
