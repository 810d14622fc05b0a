import { isExpired, type Token } from '../tokens.js';
import type { World } from '../world.js';
import { notFound } from '../http/errors.js';
import { boolParam, enumParam, intParam, one, pageOf, type Query } from '../http/params.js';

/** Handlers for the inventory endpoints. Each returns the success envelope's fields. */

export interface HandlerContext {
  world: World; query: Query; params: Record<string, string>; now: number;
  faults: { repeatPage: boolean; poison: boolean; poisonSeq: number };
}
export type Handler = (ctx: HandlerContext) => Record<string, unknown>;

export const ok = (result: unknown, extra: Record<string, unknown> = {}) => ({ result, success: true, errors: [], messages: [], ...extra });

/** page 1..∞, per_page min..max; the 'repeat-page' fault pins the page to 1 (Cloudflare's /accounts bug). */
function paged<T>(ctx: HandlerContext, items: T[], limits = { def: 20, min: 5, max: 50 }) {
  const page = intParam(ctx.query, 'page', 1, 1, Number.MAX_SAFE_INTEGER);
  const perPage = intParam(ctx.query, 'per_page', limits.def, limits.min, limits.max);
  const { result, result_info } = pageOf(items, ctx.faults.repeatPage ? 1 : page, perPage);
  return ok(result, { result_info });
}

function sortBy<T>(items: T[], key: (t: T) => string, direction: 'asc' | 'desc' | undefined): T[] {
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

function requireAccount(ctx: HandlerContext) {
  const account = ctx.world.account(ctx.params.account_id ?? '');
  if (!account) throw notFound('Account');
  return account;
}

function findById<T extends object>(items: readonly T[], id: string | undefined, what: string): T {
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

export const iamHandlers: Record<string, Handler> = {
  'GET /user': (ctx) => ok(ctx.world.user),
  'GET /user/tokens': (ctx) => tokenList(ctx, ctx.world.userTokens),
  'GET /user/tokens/verify': (ctx) => {
    const t = findById(ctx.world.userTokens, ctx.world.credentialTokenId, 'Token');
    const result = { id: t.id, status: t.status, ...(t.not_before ? { not_before: t.not_before } : {}), ...(t.expires_on ? { expires_on: t.expires_on } : {}) };
    return { result, success: true, errors: [], messages: [{ code: 10000, message: 'This API Token is valid and active', type: null }] };
  },
  'GET /user/tokens/permission_groups': (ctx) => permissionGroups(ctx, ctx.world.permissionGroups),
  'GET /user/tokens/:token_id': (ctx) => ok(findById(ctx.world.userTokens, ctx.params.token_id, 'Token')),
  'GET /user/invites': (ctx) => ok(ctx.world.userInvites),
  'GET /user/invites/:invite_id': (ctx) => ok(findById(ctx.world.userInvites, ctx.params.invite_id, 'Invite')),
  'GET /user/organizations': (ctx) => {
    const status = enumParam(ctx.query, 'status', ['member', 'invited'] as const);
    const name = one(ctx.query, 'name');
    const order = enumParam(ctx.query, 'order', ['id', 'name', 'status'] as const) ?? 'name';
    const direction = enumParam(ctx.query, 'direction', ['asc', 'desc'] as const);
    const orgs = ctx.world.organizations.filter((o) => (!status || o.status === status) && (!name || String(o.name).includes(name)));
    return paged(ctx, sortBy(orgs, (o) => String(o[order]), direction));
  },
  'GET /user/organizations/:organization_id': (ctx) => ok(findById(ctx.world.organizations, ctx.params.organization_id, 'Organization')),
  'GET /user/subscriptions': (ctx) => single(ctx.world.userSubscriptions),
  'GET /user/billing/profile': (ctx) => ok({ id: ctx.world.user.id.slice(0, 32), first_name: 'Owen', last_name: 'Owner', account_type: 'type',
    country: 'US', primary_email: ctx.world.user.email, payment_email: ctx.world.user.email, created_on: '2019-03-01T12:00:00Z', use_legacy: false }),
  'GET /user/billing/history': (ctx) => {
    const order = enumParam(ctx.query, 'order', ['type', 'occured_at', 'action'] as const) ?? 'occured_at';
    const type = one(ctx.query, 'type'), action = one(ctx.query, 'action');
    const items = ctx.world.billingHistory.filter((b) => (!type || b.type === type) && (!action || b.action === action));
    const key = order === 'occured_at' ? 'occurred_at' : order;
    const sorted = sortBy(items, (b) => String(b[key]), enumParam(ctx.query, 'direction', ['asc', 'desc'] as const) ?? 'desc');
    return paged(ctx, sorted);
  },
  'GET /user/firewall/access_rules/rules': (ctx) => {
    const mode = one(ctx.query, 'mode'), target = one(ctx.query, 'configuration.target'), value = one(ctx.query, 'configuration.value');
    const order = enumParam(ctx.query, 'order', ['configuration.target', 'configuration.value', 'mode'] as const);
    const rules = ctx.world.ipAccessRules.filter((r) => {
      const c = r.configuration as { target: string; value: string };
      return (!mode || r.mode === mode) && (!target || c.target === target) && (!value || c.value === value);
    });
    const key = (r: Record<string, unknown>) => order === 'mode' ? String(r.mode) : order ? String((r.configuration as Record<string, string>)[order.split('.')[1]!]) : '';
    // Limits not stated in the docs page; 1..1000 (default 20) is what the legacy firewall API accepts.
    return paged(ctx, sortBy(rules, key, order ? enumParam(ctx.query, 'direction', ['asc', 'desc'] as const) ?? 'asc' : undefined), { def: 20, min: 1, max: 1000 });
  },
  'GET /accounts': (ctx) => {
    const name = one(ctx.query, 'name')?.toLowerCase();
    const direction = enumParam(ctx.query, 'direction', ['asc', 'desc'] as const);
    const accounts = ctx.world.accounts.filter((a) => !name || a.name.toLowerCase().includes(name));
    return paged(ctx, sortBy(accounts, (a) => a.name, direction));
  },
  'GET /accounts/:account_id': (ctx) => ok(requireAccount(ctx)),
  'GET /accounts/:account_id/tokens': (ctx) => tokenList(ctx, ctx.world.accountTokens(requireAccount(ctx).id)),
  'GET /accounts/:account_id/tokens/verify': (ctx) => iamHandlers['GET /user/tokens/verify']!(ctx),
  'GET /accounts/:account_id/tokens/permission_groups': (ctx) => permissionGroups(ctx, ctx.world.accountPermissionGroups(requireAccount(ctx).id)),
  'GET /accounts/:account_id/tokens/:token_id': (ctx) => ok(findById(ctx.world.accountTokens(requireAccount(ctx).id), ctx.params.token_id, 'Token')),
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
