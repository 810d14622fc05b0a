import { badParam } from '../http/errors.js';
import { many, one, type Query } from '../http/params.js';
import { scopeOf } from './entries.js';

type Entry = Record<string, unknown>;
export type Predicate = (e: Entry) => boolean;

const get = (e: Entry, path: string): unknown => path.split('.').reduce<unknown>((o, k) => (o as Entry | undefined)?.[k], e);

function ipv4ToInt(ip: string): number | undefined {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

/** `actor.ip` takes an address or a CIDR range (IPv4 ranges; IPv6 matched exactly). */
function ipMatcher(spec: string): (ip: string) => boolean {
  const [net, bits] = spec.split('/');
  const base = net ? ipv4ToInt(net) : undefined;
  if (bits === undefined || base === undefined) return (ip) => ip === spec;
  const n = Number(bits);
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  return (ip) => { const v = ipv4ToInt(ip); return v !== undefined && ((v & mask) >>> 0) === ((base & mask) >>> 0); };
}

/** v1 filters. `hide_user_logs` hides user-level entries (logins and other actions on the user itself). */
export function v1Filter(q: Query): Predicate | undefined {
  const preds: Predicate[] = [];
  const eq = (param: string, path: string, fold = false) => {
    const v = one(q, param);
    if (v === undefined || v === '') return;
    preds.push(fold ? (e) => String(get(e, path) ?? '').toLowerCase() === v.toLowerCase() : (e) => get(e, path) === v);
  };
  eq('id', 'id'); eq('action.type', 'action.type'); eq('actor.email', 'actor.email', true); eq('zone.name', 'metadata.zone_name');
  const ip = one(q, 'actor.ip');
  if (ip) { const m = ipMatcher(ip); preds.push((e) => m(String(get(e, 'actor.ip') ?? ''))); }
  if (one(q, 'hide_user_logs') === 'true') preds.push((e) => get(e, 'resource.type') !== 'user');
  return combine(preds);
}

const V2_FIELDS: Record<string, (e: Entry) => unknown> = {
  account_name: (e) => get(e, 'account.name'), action_result: (e) => get(e, 'action.result'), action_type: (e) => get(e, 'action.type'),
  actor_context: (e) => get(e, 'actor.context'), actor_email: (e) => get(e, 'actor.email'), actor_id: (e) => get(e, 'actor.id'),
  actor_ip_address: (e) => get(e, 'actor.ip_address'), actor_token_id: (e) => get(e, 'actor.token_id'),
  actor_token_name: (e) => get(e, 'actor.token_name'), actor_type: (e) => get(e, 'actor.type'), id: (e) => e.id, audit_log_id: (e) => e.id,
  raw_cf_ray_id: (e) => get(e, 'raw.cf_ray_id'), raw_method: (e) => get(e, 'raw.method'), raw_status_code: (e) => get(e, 'raw.status_code'),
  raw_uri: (e) => get(e, 'raw.uri'), resource_id: (e) => get(e, 'resource.id'), resource_product: (e) => get(e, 'resource.product'),
  resource_type: (e) => get(e, 'resource.type'), resource_scope: (e) => scopeOf(e), zone_id: (e) => get(e, 'zone.id'), zone_name: (e) => get(e, 'zone.name'),
};

/** Curated expansion of product_category into resource_product values (subset; unknown → 400 as documented). */
const CATEGORIES: Record<string, string[]> = {
  dns: ['dns_records'], security: ['WAF', 'Zone Settings'], accounts: ['Accounts', 'Members', 'API Tokens', 'Users'],
  developer_platform: ['Workers'], zerotrust: [],
};

/** v2 array filters: values of one key are OR-ed, `<key>.not` excludes, different keys are AND-ed. */
export function v2Filter(q: Query): Predicate | undefined {
  const preds: Predicate[] = [];
  for (const [name, field] of Object.entries(V2_FIELDS)) {
    const inc = many(q, name), exc = many(q, `${name}.not`);
    if (inc.length) preds.push((e) => inc.includes(String(field(e) ?? '')));
    if (exc.length) preds.push((e) => !exc.includes(String(field(e) ?? '')));
  }
  const categories = many(q, 'product_category');
  if (categories.length) {
    const products = new Set<string>(many(q, 'resource_product'));
    for (const c of categories) {
      const list = CATEGORIES[c.toLowerCase()];
      if (!list) throw badParam(`unknown product_category: ${c}`);
      list.forEach((p) => products.add(p));
    }
    preds.push((e) => products.has(String(get(e, 'resource.product'))));
  }
  return combine(preds);
}

function combine(preds: Predicate[]): Predicate | undefined {
  if (preds.length === 0) return undefined;
  return (e) => preds.every((p) => p(e));
}
