import { accountPermissionGroups, PERMISSION_GROUPS, ROLES, type PermissionGroup, type Role } from './catalog.js';
import { makeAccount, makeBillingItem, makeInvite, makeIpAccessRule, makeMember, makeOrganization, makeSubscription,
  makeZones, type Account, type Member } from './inventory.js';
import { DAY_MS, hexId, isoSec, rngFor } from './prng.js';
import { makeToken, type Token, type Zone } from './tokens.js';
import { AuditStreams, type AuditKind, type AuditStreamHandle } from './audit/streams.js';

export type { Account, Member, Token, Zone, Role, PermissionGroup, AuditKind, AuditStreamHandle };

export interface WorldSize {
  accounts: number; userTokens: number; accountTokensPerAccount: number; membersPerAccount: number;
  userInvites: number; organizations: number; billingHistory: number; ipAccessRules: number;
  userAuditEntries: number; accountAuditEntries: number; accountAuditV1Entries: number; auditDays: number;
}

export const DEFAULT_SIZE: WorldSize = {
  accounts: 3, userTokens: 12, accountTokensPerAccount: 8, membersPerAccount: 15, userInvites: 3, organizations: 2,
  billingHistory: 25, ipAccessRules: 30, userAuditEntries: 500, accountAuditEntries: 2000, accountAuditV1Entries: 300, auditDays: 30,
};

type Obj = Record<string, unknown>;

/** The simulated organisation: mutable inventory plus lazily generated audit streams. Built from the seed alone. */
export class World {
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
  private readonly tokensByAccount = new Map<string, Token[]>();
  private readonly membersByAccount = new Map<string, Member[]>();
  private readonly subsByAccount = new Map<string, Obj[]>();
  private readonly streams: AuditStreams;
  private counter = 0;

  constructor(private readonly seed: number, readonly size: WorldSize, ownerEmail: string, private readonly now: () => number) {
    const t0 = now();
    const rng = rngFor(seed, 'world');
    this.user = { id: hexId(rng), email: ownerEmail, first_name: 'Owen', last_name: 'Owner', telephone: null, country: 'US', zipcode: null,
      two_factor_authentication_enabled: true, two_factor_authentication_locked: false, suspended: false,
      has_pro_zones: true, has_business_zones: true, has_enterprise_zones: false, betas: [], organizations: [] };
    this.accounts = Array.from({ length: size.accounts }, (_, i) => makeAccount(rng, i, t0));
    this.accounts.forEach((a, i) => this.zones.set(a.id, makeZones(rng, i)));
    const firstAccount = this.accounts[0]?.id ?? hexId(rng);
    const userCtx = { now: t0, accountId: firstAccount, zones: this.allZones() };
    this.userTokens = Array.from({ length: size.userTokens }, (_, i) => makeToken(rng, i, userCtx));
    if (this.userTokens[0] === undefined) this.userTokens.push(makeToken(rng, 0, userCtx));
    this.credentialTokenId = this.userTokens[0]!.id;
    for (const a of this.accounts) {
      const ctx = { now: t0, accountId: a.id, zones: this.zones.get(a.id)! };
      this.tokensByAccount.set(a.id, Array.from({ length: size.accountTokensPerAccount }, (_, i) => makeToken(rng, i + 3, ctx)));
      this.membersByAccount.set(a.id, Array.from({ length: size.membersPerAccount }, (_, i) => makeMember(rng, i, a, ownerEmail)));
      this.subsByAccount.set(a.id, [0, 1, 2].map((i) => makeSubscription(rng, i + this.accounts.indexOf(a), t0)));
    }
    this.organizations = Array.from({ length: size.organizations }, (_, i) => makeOrganization(rng, i));
    this.user.organizations = this.organizations;
    this.userInvites = Array.from({ length: size.userInvites }, (_, i) => makeInvite(rng, i, ownerEmail, t0, this.organizations as Array<{ id: string; name: string }>));
    this.userSubscriptions = [0, 1].map((i) => makeSubscription(rng, i, t0));
    this.billingHistory = Array.from({ length: size.billingHistory }, (_, i) => makeBillingItem(rng, i, t0, this.allZones()));
    this.ipAccessRules = Array.from({ length: size.ipAccessRules }, (_, i) => makeIpAccessRule(rng, i, t0, this.user));
    this.streams = new AuditStreams(seed, size, t0, now, this);
  }

  allZones(): Zone[] { return [...this.zones.values()].flat(); }
  account(id: string): Account | undefined { return this.accounts.find((a) => a.id === id); }
  accountTokens(accountId: string): Token[] { return this.tokensByAccount.get(accountId) ?? []; }
  members(accountId: string): Member[] { return this.membersByAccount.get(accountId) ?? []; }
  roles(_accountId: string): Role[] { return [...ROLES]; }
  accountPermissionGroups(_accountId: string): PermissionGroup[] { return accountPermissionGroups(); }
  accountSubscriptions(accountId: string): Obj[] { return this.subsByAccount.get(accountId) ?? []; }
  auditStream(kind: AuditKind, accountId?: string): AuditStreamHandle { return this.streams.handle(kind, accountId); }

  // ---- mutations: each returns the resulting API object and is visible to the next request ----

  private nextRng() { return rngFor(this.seed, 'mutation', this.counter++); }

  addUserToken(partial: Partial<Token> = {}): Token {
    const t = makeToken(this.nextRng(), 0, { now: this.now(), accountId: this.accounts[0]?.id ?? '', zones: this.allZones() },
      { issued_on: isoSec(this.now()), modified_on: isoSec(this.now()), last_used_on: undefined, expires_on: undefined, status: 'active', ...partial });
    this.userTokens.push(t);
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
    for (const list of [this.userTokens, ...this.tokensByAccount.values()]) {
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
