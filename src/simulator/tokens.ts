import { groupByName, SCOPE_ACCOUNT, SCOPE_USER, SCOPE_ZONE } from './catalog.js';
import { DAY_MS, hex, hexId, int, isoSec, pick, type Rng } from './prng.js';

/** API token objects exactly as /user/tokens and /accounts/{id}/tokens serve them (never a `value`). */
export interface Token {
  id: string;
  name: string;
  status: 'active' | 'disabled' | 'expired';
  issued_on: string;
  modified_on: string;
  last_used_on?: string;
  not_before?: string;
  expires_on?: string;
  condition?: { request_ip?: { in?: string[]; not_in?: string[] } };
  policies: TokenPolicy[];
  /** Account-owned tokens only (section 10 of the API notes); the TypeScript SDK's Token type lacks them. */
  creator_email_at_creation?: string;
  provisioner_type?: string;
  provisioner_id?: string;
}
export interface TokenPolicy {
  id: string;
  effect: 'allow' | 'deny';
  permission_groups: Array<{ id: string; name: string; meta?: { key: string; value: string } }>;
  resources: Record<string, string> | Record<string, Record<string, string>>;
}
export interface Zone { id: string; name: string }
export interface TokenContext { now: number; accountId: string; zones: Zone[] }

const groups = (...names: string[]) => names.map((n) => ({ id: groupByName(n).id, name: n }));

type Shape = (rng: Rng, ctx: TokenContext) => Pick<Token, 'name' | 'policies'> & Partial<Token>;

const acct = (ctx: TokenContext) => `${SCOPE_ACCOUNT}.${ctx.accountId}`;
const policy = (rng: Rng, effect: 'allow' | 'deny', names: string[], resources: TokenPolicy['resources']): TokenPolicy =>
  ({ id: hexId(rng), effect, permission_groups: groups(...names), resources });

// Each shape is one kind of token a security review cares about; they cycle by index.
const SHAPES: Shape[] = [
  (rng, ctx) => ({ name: 'flarewatch read-only', policies: [policy(rng, 'allow',
    ['Account Settings Read', 'Account API Tokens Read', 'Memberships Read'], { [acct(ctx)]: '*' })] }),
  (rng, ctx) => ({ name: 'terraform-admin', policies: [policy(rng, 'allow',
    ['Account Settings Write', 'Workers Scripts Write', 'Access: Apps and Policies Write', 'Account API Tokens Write'],
    { [`${SCOPE_ACCOUNT}.*`]: '*' }), policy(rng, 'allow', ['Zone Write', 'DNS Write', 'Firewall Services Write'],
    { [`${SCOPE_ZONE}.*`]: '*' })] }),
  (rng, ctx) => ({ name: `dns-bot ${pick(rng, ctx.zones).name}`, policies: [policy(rng, 'allow', ['DNS Read', 'Zone Read'],
    { [`${SCOPE_ZONE}.${pick(rng, ctx.zones).id}`]: '*' })] }),
  (rng, ctx) => ({ name: 'ci cache purge', policies: [policy(rng, 'allow', ['Cache Purge'],
    { [acct(ctx)]: { [`${SCOPE_ZONE}.*`]: '*' } })], condition: { request_ip: { in: ['192.0.2.0/24', '2001:db8::/32'] } } }),
  (rng, ctx) => ({ name: 'deny billing', policies: [policy(rng, 'deny', ['Billing Write', 'Billing Read'], { [acct(ctx)]: '*' })] }),
  (rng, ctx) => ({ name: 'legacy wordpress plugin', policies: [policy(rng, 'allow',
    ['Zone Settings Write', 'Cache Purge', 'Page Rules Write', 'SSL and Certificates Write'], { [`${SCOPE_ZONE}.*`]: '*' })],
    condition: { request_ip: { not_in: ['203.0.113.0/24'] } } }),
  (rng, ctx) => ({ name: 'logpush', policies: [policy(rng, 'allow', ['Logs Read', 'Account Analytics Read'], { [acct(ctx)]: '*' })] }),
  (rng, ctx) => ({ name: 'r2 uploader', policies: [policy(rng, 'allow', ['Workers R2 Storage Write'], { [acct(ctx)]: '*' })] }),
  (rng, ctx) => ({ name: 'load balancer automation', policies: [policy(rng, 'allow', ['Load Balancers Write', 'Zone Read'],
    { [acct(ctx)]: { [`${SCOPE_ZONE}.${pick(rng, ctx.zones).id}`]: '*' } })] }),
  (rng, ctx) => ({ name: 'security scanner', policies: [policy(rng, 'allow', ['Firewall Services Read', 'SSL and Certificates Read', 'Zone Read'],
    { [`${SCOPE_ZONE}.*`]: '*' }), policy(rng, 'deny', ['Zone Write'], { [`${SCOPE_ZONE}.*`]: '*' })] }),
  (rng, ctx) => ({ name: 'old deploy key', policies: [policy(rng, 'allow', ['Workers Scripts Write', 'Pages Write'], { [acct(ctx)]: '*' })] }),
  (rng, ctx) => ({ name: 'analytics dashboard', policies: [policy(rng, 'allow', ['Analytics Read'], { [`${SCOPE_ZONE}.*`]: '*' })] }),
];

// Lifecycle variants, also by index: expiry in 1/5/20/60 days, expired, disabled, not yet valid, never used...
function lifecycle(rng: Rng, index: number, now: number): Partial<Token> {
  const issued = now - int(rng, 30, 730) * DAY_MS - int(rng, 0, DAY_MS);
  const modified = Math.min(now - DAY_MS, issued + int(rng, 0, 200) * DAY_MS);
  const base: Partial<Token> = { status: 'active', issued_on: isoSec(issued), modified_on: isoSec(Math.max(issued, modified)) };
  const used = (daysAgo: number) => ({ last_used_on: isoSec(now - daysAgo * DAY_MS - int(rng, 0, 3_600_000)) });
  switch (index % 9) {
    case 0: return { ...base, ...used(0) };
    case 1: return { ...base, ...used(2), expires_on: isoSec(now + 1 * DAY_MS) };
    case 2: return { ...base, ...used(10), expires_on: isoSec(now + 5 * DAY_MS) };
    case 3: return { ...base, expires_on: isoSec(now + 20 * DAY_MS) };
    case 4: return { ...base, ...used(400), expires_on: isoSec(now + 60 * DAY_MS) };
    case 5: return { ...base, status: 'expired', ...used(40), expires_on: isoSec(now - 3 * DAY_MS) };
    case 6: return { ...base, status: 'disabled', ...used(200) };
    case 7: return { ...base, not_before: isoSec(now + 7 * DAY_MS), expires_on: isoSec(now + 97 * DAY_MS) };
    default: return { ...base, ...used(int(rng, 1, 30)) };
  }
}

/**
 * The policies of a credential the simulator issues: read-only, scoped to what the owner can reach
 * (a user's own user resource and its accounts, or one account for an account-owned token).
 */
export function credentialPolicies(rng: Rng, owner: { userId: string; accountIds: string[] } | { accountId: string }): TokenPolicy[] {
  const accounts = 'accountId' in owner ? [owner.accountId] : owner.accountIds;
  const onAccounts = Object.fromEntries(accounts.map((id) => [`${SCOPE_ACCOUNT}.${id}`, '*']));
  const accountPolicy = policy(rng, 'allow', ['Account Settings Read', 'Account API Tokens Read', 'Account Analytics Read'], onAccounts);
  if ('accountId' in owner) return [accountPolicy];
  return [policy(rng, 'allow', ['API Tokens Read', 'User Details Read', 'Memberships Read'], { [`${SCOPE_USER}.${owner.userId}`]: '*' }), accountPolicy];
}

export function makeToken(rng: Rng, index: number, ctx: TokenContext, partial: Partial<Token> = {}): Token {
  const shape = SHAPES[index % SHAPES.length]!(rng, ctx);
  const life = lifecycle(rng, index, ctx.now);
  const token = { id: hexId(rng), ...life, ...shape, ...partial } as Token;
  if (index >= SHAPES.length && !partial.name) token.name = `${token.name} ${hex(rng, 4)}`;
  return orderKeys(token);
}

/** Field order as Cloudflare serialises tokens, so byte comparisons between runs stay meaningful. */
function orderKeys(t: Token): Token {
  const keys = ['id', 'name', 'status', 'issued_on', 'modified_on', 'last_used_on', 'not_before', 'expires_on', 'policies', 'condition'] as const;
  const out: Record<string, unknown> = {};
  for (const k of keys) if (t[k] !== undefined) out[k] = t[k];
  for (const [k, v] of Object.entries(t)) if (!(k in out) && v !== undefined) out[k] = v;
  return out as unknown as Token;
}

/** A token counts as expired once expires_on has passed, whatever its stored status says. */
export function isExpired(t: Token, now: number): boolean {
  return t.status === 'expired' || (t.expires_on !== undefined && Date.parse(t.expires_on) <= now);
}
