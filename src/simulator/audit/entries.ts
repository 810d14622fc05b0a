import { hex, isoSec, pick, uuid, type Rng } from '../prng.js';
import { ACTOR_IPS, USER_AGENTS, deepMerge, makeActivity, type ActivityContext } from './activities.js';
import type { EntryCodec } from './stream.js';

/** Wire shapes of the two audit-log versions, built from one Activity. */

export type V1Entry = Record<string, unknown> & { id: string; when: string };
export type V2Entry = Record<string, unknown> & { id: string; action: { time: string; type: string } };

const json = (v: unknown) => (v === undefined ? undefined : JSON.stringify(v));

/** v1 (`aaa_audit-logs`): `owner` is the account (or user for /user/audit_logs). */
export function v1Codec(ctx: ActivityContext, ownerId: string): EntryCodec<V1Entry> {
  const generate = (rng: Rng, _i: number, ms: number, id: string): V1Entry => {
    const a = makeActivity(rng, ctx);
    const actor = pick(rng, ctx.actors);
    const entry: Record<string, unknown> = {
      id,
      action: { type: a.v1Type, result: a.success },
      actor: { id: actor.id, email: actor.email, ip: pick(rng, ACTOR_IPS), type: 'user' },
      interface: a.method === 'POST' && a.v1Type === 'login' ? 'UI' : pick(rng, ['API', 'UI']),
      metadata: a.metadata,
      newValue: json(a.newValue) ?? '',
      oldValue: json(a.oldValue) ?? '',
      owner: { id: ownerId },
      resource: { id: a.resourceId, type: a.v1Resource },
      when: isoSec(ms),
    };
    if (a.newValue !== undefined) entry.newValueJson = a.newValue;
    if (a.oldValue !== undefined) entry.oldValueJson = a.oldValue;
    return entry as V1Entry;
  };
  return {
    generate,
    fromPartial: (rng, partial, ms, id) => ({ ...deepMerge(generate(rng, 0, ms, id), partial), id, when: new Date(ms).toISOString() }),
    // UUID-looking, grouped by second: shared 8-hex prefix, then the rank, so ids order like the index.
    makeId: (prefix, rank, rng) => `${prefix}-${rank.toString(16).padStart(4, '0')}-4${hex(rng, 3)}-a${hex(rng, 3)}-${hex(rng, 12)}`,
    randomId: (rng) => uuid(rng),
    isSignin: (e) => (e.action as { type?: string } | undefined)?.type === 'login',
  };
}

/** v2 (`aaa_audit-logs-v2`): ids are 32 chars at most per spec, so no dashes. */
export function v2Codec(ctx: ActivityContext): EntryCodec<V2Entry> {
  const generate = (rng: Rng, _i: number, ms: number, id: string): V2Entry => {
    const a = makeActivity(rng, ctx);
    const actor = pick(rng, ctx.actors);
    const viaToken = a.v2Type !== 'login' && rng() < 0.5;
    const token = viaToken ? pick(rng, ctx.tokens) : undefined;
    const entry: Record<string, unknown> = {
      id,
      account: { id: ctx.accountId, name: ctx.accountName },
      action: { description: a.description, result: a.success ? 'success' : 'failure', time: isoSec(ms), type: a.v2Type },
      actor: {
        id: actor.id, email: actor.email, ip_address: pick(rng, ACTOR_IPS), context: token ? 'api_token' : a.v2Type === 'login' ? 'dash' : pick(rng, ['dash', 'api_key']),
        ...(token ? { token_id: token.id, token_name: token.name } : {}), type: 'user',
      },
      raw: { cf_ray_id: `${hex(rng, 16)}`, method: a.method, status_code: a.status, uri: a.uri, user_agent: pick(rng, USER_AGENTS) },
      resource: { id: a.resourceId, product: a.product, request: a.request, response: a.response, scope: {}, type: a.resourceType },
      zone: a.zone ? { id: a.zone.id, name: a.zone.name } : {},
    };
    Object.defineProperty(entry, SCOPE, { value: a.scope, enumerable: false });
    return entry as V2Entry;
  };
  return {
    generate,
    fromPartial: (rng, partial, ms, id) => {
      const e = deepMerge(generate(rng, 0, ms, id), partial) as V2Entry;
      const out = { ...e, id, action: { ...e.action, time: new Date(ms).toISOString() } } as V2Entry;
      Object.defineProperty(out, SCOPE, { value: scopeOf(e), enumerable: false });
      return out;
    },
    makeId: (prefix, rank, rng) => `${prefix}${rank.toString(16).padStart(4, '0')}${hex(rng, 20)}`,
    randomId: (rng) => hex(rng, 32),
    isSignin: (e) => e.action?.type === 'login',
  };
}

/** resource_scope is a filter in v2 but `resource.scope` is an opaque object on the wire; kept out of JSON. */
const SCOPE = Symbol('resource_scope');
export function scopeOf(e: Record<string, unknown>): string {
  const s = (e as Record<symbol, string | undefined>)[SCOPE];
  if (s) return s;
  const zone = e.zone as { id?: string } | undefined;
  return zone?.id ? 'zones' : 'accounts';
}

