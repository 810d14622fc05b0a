import { accountPermissionGroups, customRole, PERMISSION_GROUPS, ROLES, type PermissionGroup, type Role } from './catalog.js';
import { makeAccount, makeBillingItem, makeInvite, makeIpAccessRule, makeMember, makeOrganization, makeSubscription,
  makeZones, type Account, type Member } from './inventory.js';
import { DAY_MS, hexId, isoSec, rngFor, type Rng } from './prng.js';
import { makeToken, type Token, type Zone } from './tokens.js';
import { defaultAccountsFor, makeExtraUser, memberFor, type SimUser } from './users.js';
import { AuditStreams, type AuditKind, type AuditStreamHandle } from './audit/streams.js';
import type { AuditSettings } from './options.js';
import { AccessWorld } from './iam/access-world.js';
import { seedAccess } from './iam/seed.js';
import type { WorldSize, WorldView } from './world-view.js';

export type { Account, Member, Token, Zone, Role, PermissionGroup, AuditKind, AuditStreamHandle, SimUser, AuditSettings };

export type { WorldSize };

export const DEFAULT_SIZE: WorldSize = {
  accounts: 3, userTokens: 12, accountTokensPerAccount: 8, membersPerAccount: 15, userInvites: 3, organizations: 2,
  billingHistory: 25, ipAccessRules: 30, userAuditEntries: 500, accountAuditEntries: 2000, accountAuditV1Entries: 300, auditDays: 30,
  users: 1, extraUserTokens: 4, extraUserAuditEntries: 100,
};

export interface WorldOptions { audit?: AuditSettings | undefined }

type Obj = Record<string, unknown>;

/** The simulated organisation: mutable inventory plus lazily generated audit streams. Built from the seed alone. */
export class World implements WorldView {
  readonly user: Obj & { id: string; email: string };
  readonly accounts: Account[];
  readonly zones = new Map<string, Zone[]>();
  readonly userTokens: Token[];
  readonly userInvites: Obj[];
  readonly organizations: Obj[];
  readonly userSubscriptions: Obj[];
  readonly billingHistory: Obj[];
  readonly ipAccessRules: Obj[];
  readonly permissionGroups: readonly PermissionGroup[] = PERMISSION_GROUPS;
  /** id of the user token that the simulator's apiToken credential stands for (so /user/tokens/verify has an answer). */
  readonly credentialTokenId: string;
  /** Every user; users[0] is `user` with `userTokens`, `userInvites`, ... (the same objects). */
  readonly users: SimUser[];
  /** User groups, resource groups, organizations, zone statuses (src/simulator/iam/access-world.ts). */
  readonly access: AccessWorld;
  /** Retention and ageing of every audit stream; may be changed at runtime (`world.audit.ageOutPerRequest = 5`). */
  readonly audit: AuditSettings;
  private readonly tokensByAccount = new Map<string, Token[]>();
  private readonly membersByAccount = new Map<string, Member[]>();
  private readonly subsByAccount = new Map<string, Obj[]>();
  private readonly rolesByAccount = new Map<string, Role[]>();
  private readonly removedAccounts = new Set<string>();
  private readonly streams: AuditStreams;
  private counter = 0;
  private accountSeq: number;

  constructor(private readonly seed: number, readonly size: WorldSize, private readonly ownerEmail: string,
    private readonly now: () => number, opts: WorldOptions = {}) {
    const t0 = now();
    const rng = rngFor(seed, 'world');
    this.audit = { ...opts.audit };
    this.user = { id: hexId(rng), email: ownerEmail, first_name: 'Owen', last_name: 'Owner', telephone: null, country: 'US', zipcode: null,
      two_factor_authentication_enabled: true, two_factor_authentication_locked: false, suspended: false,
      has_pro_zones: true, has_business_zones: true, has_enterprise_zones: false, betas: [], organizations: [] };
    this.accounts = Array.from({ length: size.accounts }, (_, i) => makeAccount(rng, i, t0));
    this.accountSeq = this.accounts.length;
    this.accounts.forEach((a, i) => this.zones.set(a.id, makeZones(rng, i)));
    const firstAccount = this.accounts[0]?.id ?? hexId(rng);
    const userCtx = { now: t0, accountId: firstAccount, zones: this.allZones() };
    this.userTokens = Array.from({ length: size.userTokens }, (_, i) => makeToken(rng, i, userCtx));
    if (this.userTokens[0] === undefined) this.userTokens.push(makeToken(rng, 0, userCtx));
    this.credentialTokenId = this.userTokens[0]!.id;
    for (const a of this.accounts) this.fillAccount(rng, a, t0);
    this.organizations = Array.from({ length: size.organizations }, (_, i) => makeOrganization(rng, i));
    this.user.organizations = this.organizations;
    this.userInvites = Array.from({ length: size.userInvites }, (_, i) => makeInvite(rng, i, ownerEmail, t0, this.organizations as Array<{ id: string; name: string }>));
    this.userSubscriptions = [0, 1].map((i) => makeSubscription(rng, i, t0));
    this.billingHistory = Array.from({ length: size.billingHistory }, (_, i) => makeBillingItem(rng, i, t0, this.allZones()));
    this.ipAccessRules = Array.from({ length: size.ipAccessRules }, (_, i) => makeIpAccessRule(rng, i, t0, this.user));
    this.users = [{ user: this.user, tokens: this.userTokens, invites: this.userInvites, organizations: this.organizations,
      subscriptions: this.userSubscriptions, billingHistory: this.billingHistory, ipAccessRules: this.ipAccessRules,
      accountIds: this.accounts.map((a) => a.id) }];
    // Extra users draw from their own seeds and append to member lists, so users=1 leaves everything above as it was.
    for (let i = 1; i < size.users; i++) this.createUser(defaultAccountsFor(i, this.accounts), t0);
    this.streams = new AuditStreams(seed, size, t0, now, this);
    // Its own seed stream, after everything else: the inventory above is what it was before access paths existed.
    this.access = new AccessWorld(this, seed, now);
    seedAccess(this.access, this);
  }

  /** Tokens, members and subscriptions of a new account, drawn in the constructor's historical order. */
  private fillAccount(rng: Rng, a: Account, t: number): void {
    const ctx = { now: t, accountId: a.id, zones: this.zones.get(a.id)! };
    this.tokensByAccount.set(a.id, Array.from({ length: this.size.accountTokensPerAccount }, (_, i) => makeToken(rng, i + 3, ctx)));
    this.membersByAccount.set(a.id, Array.from({ length: this.size.membersPerAccount }, (_, i) => makeMember(rng, i, a, this.ownerEmail)));
    this.subsByAccount.set(a.id, [0, 1, 2].map((i) => makeSubscription(rng, i + this.accounts.indexOf(a), t)));
  }

  private createUser(accountIds: string[], t: number): SimUser {
    const index = this.users.length;
    const zones = accountIds.flatMap((id) => this.zones.get(id) ?? []);
    const u = makeExtraUser(index, { seed: this.seed, now: t, tokenCount: this.size.extraUserTokens, accountIds,
      zones: zones.length ? zones : this.allZones() });
    this.users.push(u);
    for (const id of accountIds) this.requireList(this.membersByAccount, id).push(memberFor(this.seed, index, this.account(id)!, u.user));
    return u;
  }

  allZones(): Zone[] { return [...this.zones.values()].flat(); }
  account(id: string): Account | undefined { return this.accounts.find((a) => a.id === id); }
  /** True for an account that existed and was removed (its routes answer 7003). */
  isRemovedAccount(id: string): boolean { return this.removedAccounts.has(id); }
  accountTokens(accountId: string): Token[] { return this.tokensByAccount.get(accountId) ?? []; }
  members(accountId: string): Member[] { return this.membersByAccount.get(accountId) ?? []; }
  roles(accountId: string): Role[] { return [...(this.rolesByAccount.get(accountId) ?? ROLES)]; }
  accountPermissionGroups(_accountId: string): PermissionGroup[] { return accountPermissionGroups(); }
  accountSubscriptions(accountId: string): Obj[] { return this.subsByAccount.get(accountId) ?? []; }
  userById(id: string): SimUser | undefined { return this.users.find((u) => u.user.id === id); }
  /** For 'user-v1' the second argument is a user id (default: user 0); otherwise an account id. */
  auditStream(kind: AuditKind, scopeId?: string): AuditStreamHandle { return this.streams.handle(kind, scopeId); }

  // ---- mutations: each returns the resulting API object and is visible to the next request ----

  private nextRng() { return rngFor(this.seed, 'mutation', this.counter++); }

  /** A user added at runtime, accepted member of `accounts` (default: the same rule as generated extra users). */
  addUser(opts: { accounts?: string[] } = {}): SimUser {
    for (const id of opts.accounts ?? []) if (!this.account(id)) throw new Error(`no account ${id}`);
    const u = this.createUser([...new Set(opts.accounts ?? defaultAccountsFor(this.users.length, this.accounts))], this.now());
    this.streams.get('user-v1', u.user.id);
    return u;
  }

  /** A new account with generated tokens, members and zones; user 0 is its member. */
  addAccount(): Account {
    const index = this.accountSeq++;
    const rng = rngFor(this.seed, 'account', index);
    const account = makeAccount(rng, index, this.now());
    this.accounts.push(account);
    this.zones.set(account.id, makeZones(rng, index));
    this.fillAccount(rng, account, this.now());
    this.users[0]!.accountIds.push(account.id);
    return account;
  }

  /** The account leaves /accounts for everyone; its tokens (account-owned credentials included) go with it. */
  removeAccount(accountId: string): Account {
    const index = this.accounts.findIndex((a) => a.id === accountId);
    if (index < 0) throw new Error(`no account ${accountId}`);
    const [account] = this.accounts.splice(index, 1);
    this.removedAccounts.add(accountId);
    for (const u of this.users) u.accountIds.splice(0, u.accountIds.length, ...u.accountIds.filter((id) => id !== accountId));
    for (const map of [this.tokensByAccount, this.membersByAccount, this.subsByAccount, this.rolesByAccount, this.zones] as Map<string, unknown>[]) map.delete(accountId);
    return account!;
  }

  /** Adds a token to user `user` (an index into `users`; default 0, the owner). */
  /** A billing history item of this user, dated now (appended: the listing's oldest-first order is by date). */
  addBillingItem(user = 0): Obj & { id: string } {
    const owner = this.users[user];
    if (!owner) throw new Error(`no user ${user}`);
    const item = makeBillingItem(this.nextRng(), owner.billingHistory.length, this.now(), this.allZones()) as Obj & { id: string };
    owner.billingHistory.push(item);
    return item;
  }

  removeBillingItem(id: string, user = 0): Obj {
    const list = this.users[user]?.billingHistory ?? [];
    const index = list.findIndex((b) => (b as { id?: unknown }).id === id);
    if (index < 0) throw new Error(`no billing item ${id}`);
    return list.splice(index, 1)[0] as Obj;
  }

  addUserToken(partial: Partial<Token> = {}, user = 0): Token {
    const owner = this.users[user];
    if (!owner) throw new Error(`no user ${user}`);
    const accountId = user === 0 ? this.accounts[0]?.id ?? '' : owner.accountIds[0] ?? '';
    const t = makeToken(this.nextRng(), 0, { now: this.now(), accountId, zones: this.allZones() },
      { issued_on: isoSec(this.now()), modified_on: isoSec(this.now()), last_used_on: undefined, expires_on: undefined, status: 'active', ...partial });
    owner.tokens.push(t);
    return t;
  }

  addAccountToken(accountId: string, partial: Partial<Token> = {}): Token {
    const list = this.requireList(this.tokensByAccount, accountId);
    const t = makeToken(this.nextRng(), 1, { now: this.now(), accountId, zones: this.zones.get(accountId) ?? [] },
      { issued_on: isoSec(this.now()), modified_on: isoSec(this.now()), last_used_on: undefined, expires_on: undefined, status: 'active', ...partial });
    list.push(t);
    return t;
  }

  private findToken(id: string): { list: Token[]; index: number } {
    for (const list of [...this.users.map((u) => u.tokens), ...this.tokensByAccount.values()]) {
      const index = list.findIndex((t) => t.id === id);
      if (index >= 0) return { list, index };
    }
    throw new Error(`no token ${id}`);
  }

  removeToken(id: string): Token {
    const { list, index } = this.findToken(id);
    return list.splice(index, 1)[0]!;
  }

  updateToken(id: string, patch: Partial<Token>): Token {
    const { list, index } = this.findToken(id);
    const updated = { ...list[index]!, ...patch, modified_on: patch.modified_on ?? isoSec(this.now()) };
    list[index] = updated;
    return updated;
  }

  expireToken(id: string): Token {
    return this.updateToken(id, { status: 'expired', expires_on: isoSec(this.now() - DAY_MS) });
  }

  addMember(accountId: string, partial: Partial<Member> = {}): Member {
    const list = this.requireList(this.membersByAccount, accountId);
    const m = makeMember(this.nextRng(), list.length + 1, this.account(accountId)!, 'unused@example.com', partial);
    list.push(m);
    return m;
  }

  removeMember(accountId: string, memberId: string): Member {
    const list = this.requireList(this.membersByAccount, accountId);
    const index = list.findIndex((m) => m.id === memberId);
    if (index < 0) throw new Error(`no member ${memberId}`);
    return list.splice(index, 1)[0]!;
  }

  updateMember(accountId: string, memberId: string, patch: Partial<Member>): Member {
    const list = this.requireList(this.membersByAccount, accountId);
    const index = list.findIndex((m) => m.id === memberId);
    if (index < 0) throw new Error(`no member ${memberId}`);
    const updated = { ...list[index]!, ...patch, user: { ...list[index]!.user, ...patch.user } };
    list[index] = updated;
    return updated;
  }

  /** Roles are the shared catalogue until an account's list is first changed. */
  addRole(accountId: string): Role {
    const list = this.accountRoles(accountId);
    const r = customRole(this.counter++);
    list.push(r);
    return r;
  }

  removeRole(accountId: string, roleId: string): Role {
    const list = this.accountRoles(accountId);
    const index = list.findIndex((r) => r.id === roleId);
    if (index < 0) throw new Error(`no role ${roleId}`);
    return list.splice(index, 1)[0]!;
  }

  private accountRoles(accountId: string): Role[] {
    if (!this.account(accountId)) throw new Error(`no account ${accountId}`);
    let list = this.rolesByAccount.get(accountId);
    if (!list) this.rolesByAccount.set(accountId, (list = [...ROLES]));
    return list;
  }

  updateAccountSettings(accountId: string, patch: Partial<Account['settings']>): Account {
    const account = this.account(accountId);
    if (!account) throw new Error(`no account ${accountId}`);
    account.settings = { ...account.settings, ...patch };
    return account;
  }

  private requireList<T>(map: Map<string, T[]>, accountId: string): T[] {
    const list = map.get(accountId);
    if (!list) throw new Error(`no account ${accountId}`);
    return list;
  }
}
