import type { CredentialStore, Principal } from '../credentials.js';
import { isExpired, type Token } from '../tokens.js';
import type { SimUser, World } from '../world.js';
import { CODES, HttpError, notFound } from '../http/errors.js';
import { boolParam, enumParam, intParam, one, pageOf, type Query } from '../http/params.js';

/** Handlers for the inventory endpoints. Each returns the success envelope's fields. */

export interface HandlerContext {
  world: World; query: Query; params: Record<string, string>; now: number;
  /** Who is calling (already allowed to call this route: see http/scope.ts). */
  caller: Principal;
  faults: { repeatPage: boolean; poison: boolean; poisonSeq: number; future: boolean };
  /** Write routes: the parsed JSON body (undefined when none was sent) and the credentials a roll replaces. */
  body?: unknown;
  store?: CredentialStore;
}
export type Handler = (ctx: HandlerContext) => Record<string, unknown>;

export const ok = (result: unknown, extra: Record<string, unknown> = {}) => ({ result, success: true, errors: [], messages: [], ...extra });

/** page 1..∞, per_page min..max; the 'repeat-page' fault pins the page to 1 (Cloudflare's /accounts bug). */
export function paged<T>(ctx: HandlerContext, items: T[], limits = { def: 20, min: 5, max: 50 }) {
  const page = intParam(ctx.query, 'page', 1, 1, Number.MAX_SAFE_INTEGER);
  const perPage = intParam(ctx.query, 'per_page', limits.def, limits.min, limits.max);
  const { result, result_info } = pageOf(items, ctx.faults.repeatPage ? 1 : page, perPage);
  return ok(result, { result_info });
}

export function sortBy<T>(items: T[], key: (t: T) => string, direction: 'asc' | 'desc' | undefined): T[] {
  if (!direction) return items;
  const sorted = [...items].sort((a, b) => key(a).localeCompare(key(b)));
  return direction === 'desc' ? sorted.reverse() : sorted;
}

function tokenList(ctx: HandlerContext, tokens: Token[]) {
  const includeExpired = boolParam(ctx.query, 'include_expired') ?? false;
  const direction = enumParam(ctx.query, 'direction', ['asc', 'desc'] as const);
  const visible = includeExpired ? tokens : tokens.filter((t) => !isExpired(t, ctx.now));
  return paged(ctx, sortBy(visible, (t) => `${t.issued_on}${t.id}`, direction));
}

export function requireAccount(ctx: HandlerContext) {
  const account = ctx.world.account(ctx.params.account_id ?? '');
  if (!account) throw notFound('Account');
  return account;
}

export function findById<T extends object>(items: readonly T[], id: string | undefined, what: string): T {
  const found = items.find((i) => (i as { id?: unknown }).id === id);
  if (!found) throw notFound(what);
  return found;
}

function permissionGroups(ctx: HandlerContext, groups: readonly { name: string; scopes: string[] }[]) {
  // The spec's own example double-encodes the name ('Account%20Settings%20Write'), so decode once more.
  const name = one(ctx.query, 'name');
  const wanted = name === undefined ? undefined : safeDecode(name);
  const scope = one(ctx.query, 'scope');
  return ok(groups.filter((g) => (wanted === undefined || g.name === wanted) && (scope === undefined || g.scopes.includes(scope))));
}

const safeDecode = (s: string) => { try { return decodeURIComponent(s); } catch { return s; } };

/** The user behind the caller: /user/* answers that user's own objects. */
export function me(ctx: HandlerContext): SimUser {
  const c = ctx.caller;
  const user = c.kind === 'account-token' ? undefined : ctx.world.userById(c.userId);
  // Unreachable through the server (scope refuses account tokens on /user), kept as Cloudflare's answer.
  if (!user) throw new HttpError(403, [{ code: CODES.invalidToken, message: 'Unauthorized to access requested resource' }]);
  return user;
}

function verified(t: Token) {
  const result = { id: t.id, status: t.status, ...(t.not_before ? { not_before: t.not_before } : {}), ...(t.expires_on ? { expires_on: t.expires_on } : {}) };
  return { result, success: true, errors: [], messages: [{ code: 10000, message: 'This API Token is valid and active', type: null }] };
}

/** A provisioner credential sees only the account tokens it created (provisioner_id = its token id). */
function visibleAccountTokens(ctx: HandlerContext): Token[] {
  const tokens = ctx.world.accountTokens(requireAccount(ctx).id);
  const c = ctx.caller;
  return c.kind === 'account-token' && c.provisioner ? tokens.filter((t) => t.provisioner_id === c.tokenId) : tokens;
}

/** /accounts: a user's memberships, paged; an account-owned token gets its one account whatever page it asks. */
function listAccounts(ctx: HandlerContext) {
  const c = ctx.caller;
  if (c.kind === 'account-token') {
    intParam(ctx.query, 'page', 1, 1, Number.MAX_SAFE_INTEGER);
    const perPage = intParam(ctx.query, 'per_page', 20, 5, 50);
    const result = ctx.world.accounts.filter((a) => a.id === c.accountId);
    return ok(result, { result_info: { page: 1, per_page: perPage, count: result.length, total_count: result.length, total_pages: 1 } });
  }
  const mine = new Set(me(ctx).accountIds);
  const name = one(ctx.query, 'name')?.toLowerCase();
  const direction = enumParam(ctx.query, 'direction', ['asc', 'desc'] as const);
  const accounts = ctx.world.accounts.filter((a) => mine.has(a.id) && (!name || a.name.toLowerCase().includes(name)));
  return paged(ctx, sortBy(accounts, (a) => a.name, direction));
}

export const iamHandlers: Record<string, Handler> = {
  'GET /user': (ctx) => ok(me(ctx).user),
  'GET /user/tokens': (ctx) => tokenList(ctx, me(ctx).tokens),
  // Scope lets only user tokens through; the answer is the token the credential stands for.
  'GET /user/tokens/verify': (ctx) => verified(findById(me(ctx).tokens, 'tokenId' in ctx.caller ? ctx.caller.tokenId : undefined, 'Token')),
  'GET /user/tokens/permission_groups': (ctx) => permissionGroups(ctx, ctx.world.permissionGroups),
  'GET /user/tokens/:token_id': (ctx) => ok(findById(me(ctx).tokens, ctx.params.token_id, 'Token')),
  'GET /user/invites': (ctx) => ok(me(ctx).invites),
  'GET /user/invites/:invite_id': (ctx) => ok(findById(me(ctx).invites, ctx.params.invite_id, 'Invite')),
  'GET /user/organizations': (ctx) => {
    const status = enumParam(ctx.query, 'status', ['member', 'invited'] as const);
    const name = one(ctx.query, 'name');
    const order = enumParam(ctx.query, 'order', ['id', 'name', 'status'] as const) ?? 'name';
    const direction = enumParam(ctx.query, 'direction', ['asc', 'desc'] as const);
    const orgs = me(ctx).organizations.filter((o) => (!status || o.status === status) && (!name || String(o.name).includes(name)));
    return paged(ctx, sortBy(orgs, (o) => String(o[order]), direction));
  },
  'GET /user/organizations/:organization_id': (ctx) => ok(findById(me(ctx).organizations, ctx.params.organization_id, 'Organization')),
  'GET /user/subscriptions': (ctx) => single(me(ctx).subscriptions),
  'GET /user/billing/profile': (ctx) => {
    const u = me(ctx).user;
    return ok({ id: u.id.slice(0, 32), first_name: String(u.first_name), last_name: String(u.last_name), account_type: 'type',
      country: String(u.country), primary_email: u.email, payment_email: u.email, created_on: '2019-03-01T12:00:00Z', use_legacy: false });
  },
  'GET /user/billing/history': (ctx) => {
    const order = enumParam(ctx.query, 'order', ['type', 'occured_at', 'action'] as const) ?? 'occured_at';
    const type = one(ctx.query, 'type'), action = one(ctx.query, 'action');
    const items = me(ctx).billingHistory.filter((b) => (!type || b.type === type) && (!action || b.action === action));
    const key = order === 'occured_at' ? 'occurred_at' : order;
    const sorted = sortBy(items, (b) => String(b[key]), enumParam(ctx.query, 'direction', ['asc', 'desc'] as const) ?? 'desc');
    return paged(ctx, sorted);
  },
  'GET /user/firewall/access_rules/rules': (ctx) => {
    const mode = one(ctx.query, 'mode'), target = one(ctx.query, 'configuration.target'), value = one(ctx.query, 'configuration.value');
    const order = enumParam(ctx.query, 'order', ['configuration.target', 'configuration.value', 'mode'] as const);
    const rules = me(ctx).ipAccessRules.filter((r) => {
      const c = r.configuration as { target: string; value: string };
      return (!mode || r.mode === mode) && (!target || c.target === target) && (!value || c.value === value);
    });
    const key = (r: Record<string, unknown>) => order === 'mode' ? String(r.mode) : order ? String((r.configuration as Record<string, string>)[order.split('.')[1]!]) : '';
    // Limits not stated in the docs page; 1..1000 (default 20) is what the legacy firewall API accepts.
    return paged(ctx, sortBy(rules, key, order ? enumParam(ctx.query, 'direction', ['asc', 'desc'] as const) ?? 'asc' : undefined), { def: 20, min: 1, max: 1000 });
  },
  'GET /accounts': listAccounts,
  'GET /accounts/:account_id': (ctx) => ok(requireAccount(ctx)),
  'GET /accounts/:account_id/tokens': (ctx) => tokenList(ctx, visibleAccountTokens(ctx)),
  // Scope lets only the account's own tokens through.
  'GET /accounts/:account_id/tokens/verify': (ctx) =>
    verified(findById(ctx.world.accountTokens(requireAccount(ctx).id), 'tokenId' in ctx.caller ? ctx.caller.tokenId : undefined, 'Token')),
  'GET /accounts/:account_id/tokens/permission_groups': (ctx) => permissionGroups(ctx, ctx.world.accountPermissionGroups(requireAccount(ctx).id)),
  'GET /accounts/:account_id/tokens/:token_id': (ctx) => ok(findById(visibleAccountTokens(ctx), ctx.params.token_id, 'Token')),
  'GET /accounts/:account_id/members': (ctx) => {
    const status = enumParam(ctx.query, 'status', ['accepted', 'pending', 'rejected'] as const);
    const order = enumParam(ctx.query, 'order', ['user.first_name', 'user.last_name', 'user.email', 'status'] as const);
    const direction = enumParam(ctx.query, 'direction', ['asc', 'desc'] as const);
    const members = ctx.world.members(requireAccount(ctx).id).filter((m) => !status || m.status === status);
    const key = (m: (typeof members)[number]) => order === 'status' ? m.status : order ? String(m.user[order.slice(5) as 'email'] ?? '') : m.email;
    return paged(ctx, sortBy(members, key, order || direction ? direction ?? 'asc' : undefined));
  },
  'GET /accounts/:account_id/members/:member_id': (ctx) => ok(findById(ctx.world.members(requireAccount(ctx).id), ctx.params.member_id, 'Member')),
  'GET /accounts/:account_id/roles': (ctx) => paged(ctx, ctx.world.roles(requireAccount(ctx).id)),
  'GET /accounts/:account_id/roles/:role_id': (ctx) => ok(findById(ctx.world.roles(requireAccount(ctx).id), ctx.params.role_id, 'Role')),
  'GET /accounts/:account_id/subscriptions': (ctx) => single(ctx.world.accountSubscriptions(requireAccount(ctx).id)),
};

/** Subscriptions: page-style envelope, but always one page (the SDK treats it as SinglePage). */
function single(items: unknown[]) {
  return ok(items, { result_info: { page: 1, per_page: Math.max(items.length, 1), count: items.length, total_count: items.length, total_pages: 1 } });
}
