import { hexId, int, pick, type Rng } from '../prng.js';
import type { Zone } from '../tokens.js';

/** What happened in one audit entry, independent of the v1/v2 wire shape. */
export interface Activity {
  v1Type: string; v1Resource: string;
  v2Type: 'create' | 'update' | 'delete' | 'view' | 'login'; description: string;
  product: string; resourceType: string; scope: 'accounts' | 'user' | 'zones' | 'memberships';
  method: string; uri: string; status: number; success: boolean;
  resourceId: string; zone?: Zone; metadata: Record<string, unknown>;
  oldValue?: unknown; newValue?: unknown; request: Record<string, unknown>; response: Record<string, unknown>;
}

export interface Actor { id: string; email: string }
export interface ActivityContext {
  accountId: string; accountName: string; zones: Zone[]; actors: Actor[];
  tokens: Array<{ id: string; name: string }>; groups: Array<{ id: string; name: string }>; roles: string[];
}

/** The handful of addresses the organisation works from (documentation ranges), plus one odd one out. */
export const ACTOR_IPS = ['192.0.2.10', '192.0.2.44', '198.51.100.7', '203.0.113.25', '2001:db8::1f', '185.220.101.33'];
export const USER_AGENTS = ['Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'terraform-provider-cloudflare/5.4.0',
  'cloudflare-typescript/7.1.0', 'curl/8.7.1'];

type Maker = (rng: Rng, c: ActivityContext) => Activity;
const base = (a: Partial<Activity> & Pick<Activity, 'v1Type' | 'v1Resource' | 'v2Type' | 'description' | 'product' | 'resourceType' | 'scope' | 'method' | 'uri'>): Activity =>
  ({ status: 200, success: true, resourceId: '', metadata: {}, request: {}, response: {}, ...a });

const MAKERS: Array<[number, Maker]> = [
  [6, (rng, c) => { const z = pick(rng, c.zones); const rid = hexId(rng); const name = `${pick(rng, ['www', 'api', 'mail', '_dmarc', 'vpn'])}.${z.name}`;
    const content = `192.0.2.${int(rng, 1, 250)}`;
    return base({ v1Type: pick(rng, ['rec_add', 'rec_set', 'rec_del']), v1Resource: 'DNS_record', v2Type: pick(rng, ['create', 'update', 'delete']),
      description: 'DNS record changed', product: 'dns_records', resourceType: 'dns_record', scope: 'zones', method: 'PUT',
      uri: `/client/v4/zones/${z.id}/dns_records/${rid}`, resourceId: rid, zone: z,
      metadata: { zone_name: z.name, name, type: 'A', content, ttl: 1, proxied: true }, oldValue: { content: '192.0.2.1' }, newValue: { content },
      request: { name, type: 'A', content }, response: { id: rid } }); }],
  [4, (rng, c) => { const ok = rng() > 0.2; const a = pick(rng, c.actors);
    return base({ v1Type: 'login', v1Resource: 'user', v2Type: 'login', description: ok ? 'User logged in' : 'Failed login attempt',
      product: 'Users', resourceType: 'login', scope: 'user', method: 'POST', uri: '/api/v4/login', status: ok ? 200 : 401, success: ok,
      resourceId: a.id, metadata: { mfa: ok ? 'totp' : 'none' } }); }],
  [2, (rng, c) => { const t = pick(rng, c.tokens); const g = pick(rng, c.groups);
    const policies = [{ effect: 'allow', permission_groups: [g], resources: { [`com.cloudflare.api.account.${c.accountId}`]: '*' } }];
    const created = rng() > 0.4;
    return base({ v1Type: created ? 'create' : 'update', v1Resource: 'API_Token', v2Type: created ? 'create' : 'update',
      description: created ? 'API token created' : 'API token policies updated', product: 'API Tokens', resourceType: 'api_token', scope: 'accounts',
      method: created ? 'POST' : 'PUT', uri: `/client/v4/accounts/${c.accountId}/tokens${created ? '' : `/${t.id}`}`, resourceId: t.id,
      metadata: { token_name: t.name }, newValue: { name: t.name, policies }, oldValue: created ? undefined : { name: t.name, policies: [] },
      request: { name: t.name, policies }, response: { id: t.id } }); }],
  [2, (rng, c) => { const mid = hexId(rng); const role = pick(rng, c.roles); const email = `new.hire${int(rng, 1, 999)}@example.com`;
    return base({ v1Type: 'add', v1Resource: 'member', v2Type: 'create', description: 'Member added to account', product: 'Members',
      resourceType: 'account_member', scope: 'memberships', method: 'POST', uri: `/client/v4/accounts/${c.accountId}/members`, resourceId: mid,
      metadata: { email, roles: [role] }, newValue: { email, roles: [role], status: 'pending' }, request: { email, roles: [role] }, response: { id: mid } }); }],
  [2, (rng, c) => { const setting = pick(rng, ['enforce_twofactor', 'abuse_contact_email', 'default_nameservers']);
    return base({ v1Type: 'update', v1Resource: 'account', v2Type: 'update', description: 'Account settings updated', product: 'Accounts',
      resourceType: 'account_settings', scope: 'accounts', method: 'PATCH', uri: `/client/v4/accounts/${c.accountId}`, resourceId: c.accountId,
      metadata: { setting }, oldValue: { [setting]: true }, newValue: { [setting]: false }, request: { settings: { [setting]: false } } }); }],
  [2, (rng, c) => { const z = pick(rng, c.zones); const setting = pick(rng, ['ssl', 'min_tls_version', 'always_use_https', 'security_level']);
    return base({ v1Type: 'update', v1Resource: 'zone_setting', v2Type: 'update', description: 'Zone setting changed', product: 'Zone Settings',
      resourceType: 'zone_setting', scope: 'zones', method: 'PATCH', uri: `/client/v4/zones/${z.id}/settings/${setting}`, resourceId: setting, zone: z,
      metadata: { zone_name: z.name, setting }, oldValue: 'full', newValue: 'strict', request: { value: 'strict' } }); }],
  [1, (rng, c) => { const z = pick(rng, c.zones); const rid = hexId(rng);
    return base({ v1Type: 'create', v1Resource: 'firewall_rule', v2Type: 'create', description: 'WAF custom rule created', product: 'WAF',
      resourceType: 'ruleset_rule', scope: 'zones', method: 'POST', uri: `/client/v4/zones/${z.id}/rulesets/${rid}/rules`, resourceId: rid, zone: z,
      metadata: { zone_name: z.name }, newValue: { action: 'block', expression: '(ip.src.country eq "T1")' } }); }],
  [1, (rng, c) => { const name = pick(rng, ['api-router', 'image-resizer', 'auth-edge']);
    return base({ v1Type: pick(rng, ['create', 'update']), v1Resource: 'worker_script', v2Type: 'update', description: 'Worker script deployed',
      product: 'Workers', resourceType: 'script', scope: 'accounts', method: 'PUT', uri: `/client/v4/accounts/${c.accountId}/workers/scripts/${name}`,
      resourceId: name, metadata: { script: name } }); }],
];
const TOTAL_WEIGHT = MAKERS.reduce((s, [w]) => s + w, 0);

export function makeActivity(rng: Rng, ctx: ActivityContext): Activity {
  let roll = rng() * TOTAL_WEIGHT;
  for (const [weight, maker] of MAKERS) {
    roll -= weight;
    if (roll < 0) return maker(rng, ctx);
  }
  return MAKERS[0]![1](rng, ctx);
}

export function deepMerge<T>(target: T, patch: Record<string, unknown>): T {
  const out = { ...(target as Record<string, unknown>) };
  for (const [k, v] of Object.entries(patch)) {
    const cur = out[k];
    out[k] = v && typeof v === 'object' && !Array.isArray(v) && cur && typeof cur === 'object' && !Array.isArray(cur)
      ? deepMerge(cur, v as Record<string, unknown>) : v;
  }
  return out as T;
}
