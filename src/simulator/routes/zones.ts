import { HttpError, CODES, notFound } from '../http/errors.js';
import { enumParam, one } from '../http/params.js';
import { hash32 } from '../prng.js';
import type { Zone } from '../tokens.js';
import { ok, paged, sortBy, type Handler, type HandlerContext } from './iam.js';

// GET /zones?account.id=… and GET /zones/{id}: the zone a resource key com.cloudflare.api.account.zone.<id> names.

/** Accounts the caller reaches: an account token its own, a user its memberships. */
function reachable(ctx: HandlerContext): Set<string> {
  const c = ctx.caller;
  if (c.kind === 'account-token') return new Set([c.accountId]);
  return new Set(ctx.world.userById(c.userId)?.accountIds ?? []);
}

const stamp = (zoneId: string, daysBack: number) => new Date(Date.UTC(2024, 0, 1) - (hash32(zoneId) % 900 + daysBack) * 86_400_000).toISOString();

/** zones_zone with every required field; what the simulator does not model keeps a plain default. */
function zoneObject(ctx: HandlerContext, accountId: string, z: Zone) {
  const account = ctx.world.account(accountId);
  return {
    id: z.id, name: z.name, status: ctx.world.access.zoneStatusOf(z.id), paused: false, type: 'full', development_mode: 0,
    name_servers: ['ada.ns.cloudflare.com', 'bob.ns.cloudflare.com'], original_name_servers: null, original_registrar: null, original_dnshost: null,
    created_on: stamp(z.id, 30), modified_on: stamp(z.id, 0), activated_on: stamp(z.id, 29),
    owner: { id: ctx.world.user.id, type: 'user', name: ctx.world.user.email }, account: { id: accountId, name: account?.name ?? '' },
    meta: { step: 2, custom_certificate_quota: 0, page_rule_quota: 3, phishing_detected: false },
    permissions: [], plan: { id: '0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee', name: 'Free Website', price: 0, currency: 'USD', frequency: '', is_subscribed: false,
      can_subscribe: false, legacy_id: 'free', legacy_discount: false, externally_managed: false },
  };
}

function allZones(ctx: HandlerContext) {
  const mine = reachable(ctx);
  return [...ctx.world.zones.entries()].filter(([id]) => mine.has(id) && ctx.world.account(id)).flatMap(([id, zones]) => zones.map((z) => zoneObject(ctx, id, z)));
}

export const zoneHandlers: Record<string, Handler> = {
  'GET /zones': (ctx) => {
    const accountId = one(ctx.query, 'account.id'), name = one(ctx.query, 'name');
    const status = enumParam(ctx.query, 'status', ['initializing', 'pending', 'active', 'moved'] as const);
    const order = enumParam(ctx.query, 'order', ['name', 'status', 'account.id', 'account.name'] as const) ?? 'name';
    const zones = allZones(ctx).filter((z) => (!accountId || z.account.id === accountId) && (!name || z.name === name) && (!status || z.status === status));
    const key = (z: (typeof zones)[number]) => order === 'name' ? z.name : order === 'status' ? z.status : order === 'account.id' ? z.account.id : z.account.name;
    return paged(ctx, sortBy(zones, (z) => `${key(z)}\u0000${z.id}`, enumParam(ctx.query, 'direction', ['asc', 'desc'] as const) ?? 'asc'));
  },
  'GET /zones/:zone_id': (ctx) => {
    const zone = allZones(ctx).find((z) => z.id === ctx.params.zone_id);
    if (!zone) {
      if (!/^[0-9a-f]{32}$/.test(ctx.params.zone_id ?? '')) throw new HttpError(400, [{ code: CODES.badIdentifier, message: 'Invalid zone identifier' }]);
      throw notFound('Zone');
    }
    return ok(zone);
  },
};
