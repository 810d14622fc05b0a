import { roleByName } from './catalog.js';
import { makeBillingItem, makeInvite, makeIpAccessRule, makeOrganization, makeSubscription, person, type Account, type Member } from './inventory.js';
import { hexId, pick, rngFor } from './prng.js';
import { makeToken, type Token, type Zone } from './tokens.js';

type Obj = Record<string, unknown>;

/** One Cloudflare user: what `/user` and every `/user/*` listing answer for a credential of that user. */
export interface SimUser {
  /** The GET /user object. */
  user: Obj & { id: string; email: string };
  tokens: Token[];
  invites: Obj[];
  organizations: Obj[];
  subscriptions: Obj[];
  billingHistory: Obj[];
  ipAccessRules: Obj[];
  /** Accounts the user is an accepted member of, in /accounts order. Kept up to date by the world's mutations. */
  accountIds: string[];
}

export interface ExtraUserContext { seed: number; now: number; tokenCount: number; accountIds: string[]; zones: Zone[] }

const DOMAINS = ['example.com', 'example.net', 'acme.test', 'globex.test'];

/**
 * User `index` (≥ 1) of the world, a pure function of (seed, index): its own identity, tokens and a few of
 * every other user-level object. Small counts: these users exist to exercise several credentials, not volume.
 */
export function makeExtraUser(index: number, ctx: ExtraUserContext): SimUser {
  const rng = rngFor(ctx.seed, 'user', index);
  const p = person(rng, pick(rng, DOMAINS));
  // The index in the local part keeps emails distinct whatever names the draw gives.
  const email = p.email.replace('@', `.u${index}@`);
  const user: SimUser['user'] = {
    id: hexId(rng), email, first_name: p.first, last_name: p.last, telephone: null, country: pick(rng, ['US', 'GB', 'DE', 'JP']), zipcode: null,
    two_factor_authentication_enabled: index % 3 !== 2, two_factor_authentication_locked: false, suspended: false,
    has_pro_zones: false, has_business_zones: index % 2 === 0, has_enterprise_zones: false, betas: [], organizations: [],
  };
  const tokenCtx = { now: ctx.now, accountId: ctx.accountIds[0] ?? '', zones: ctx.zones };
  const tokens = Array.from({ length: ctx.tokenCount }, (_, i) => makeToken(rng, i, tokenCtx));
  const organizations: Obj[] = [makeOrganization(rng, index % 3)];
  user.organizations = organizations;
  return {
    user, tokens, organizations, accountIds: [...ctx.accountIds],
    invites: [makeInvite(rng, index % 3, email, ctx.now, organizations as Array<{ id: string; name: string }>)],
    subscriptions: [makeSubscription(rng, index, ctx.now)],
    billingHistory: [0, 1, 2].map((i) => makeBillingItem(rng, i, ctx.now, ctx.zones)),
    ipAccessRules: [0, 1, 2].map((i) => makeIpAccessRule(rng, i, ctx.now, user)),
  };
}

/** The member object an account lists for one of the world's users (same user id and email as its /user). */
export function memberFor(seed: number, userIndex: number, account: Account, user: SimUser['user']): Member {
  const rng = rngFor(seed, 'membership', userIndex, account.id);
  const roles = [roleByName(userIndex % 2 === 1 ? 'Administrator' : 'Administrator Read Only')];
  return {
    id: hexId(rng), email: user.email, status: 'accepted',
    user: { id: user.id, email: user.email, first_name: String(user.first_name), last_name: String(user.last_name),
      two_factor_authentication_enabled: user.two_factor_authentication_enabled === true },
    roles, policies: [],
  };
}

/** Extra user i belongs to accounts i and i+1 (modulo the account count), each once. */
export function defaultAccountsFor(index: number, accounts: readonly Account[]): string[] {
  const n = accounts.length;
  if (n === 0) return [];
  return [...new Set([accounts[index % n]!.id, accounts[(index + 1) % n]!.id])];
}
