// Pure: what changed between two versions of a token or a member, in words a reviewer reads.

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

interface TokenPolicy {
  effect: string;
  groups: string[];
  /** [key, value] of each entry of `resources`: a value is `*`, a string, or an object of inner keys. */
  resources: Array<[string, unknown]>;
}

function readTokenPolicies(policies: unknown, groupNames: ReadonlyMap<string, string>): TokenPolicy[] {
  return arr(policies).map(obj).map((p) => ({
    effect: text(p.effect) || text(p.access) || '?',
    groups: arr(p.permission_groups).map(obj).map((g) => groupNames.get(text(g.id)) ?? (text(g.name) || text(g.id) || '?')),
    resources: Object.entries(obj(p.resources)),
  }));
}

function grantLines(policies: TokenPolicy[]): string[] {
  const out: string[] = [];
  for (const { effect, groups, resources } of policies) {
    const shown = resources.flatMap(([key, value]) =>
      value && typeof value === 'object' && !Array.isArray(value)
        ? Object.keys(value).map((inner) => `${key} > ${inner}`)
        : [key + (value === '*' || value === undefined ? '' : ` = ${text(value)}`)],
    );
    for (const name of groups) for (const r of shown.length ? shown : ['(no resource)']) out.push(`${effect} ${name} on ${r}`);
  }
  return [...new Set(out)].sort();
}

/**
 * How a token's policies are written:
 * - `grants` (history, token_grants): one line per permission group × resource,
 *   `allow Zone Write on com.cloudflare.api.account.zone.*`, a nested resource as
 *   `<account> > <inner key>`, a value other than `*` as ` = <value>`; sorted, each once.
 * - `policies` (the review evidence's state cells): one line per policy in the order given,
 *   its groups and its resource keys each joined with ` + `.
 */
export type TokenPolicyFormat = 'grants' | 'policies';

export function tokenGrants(policies: unknown, groupNames: ReadonlyMap<string, string> = new Map(), format: TokenPolicyFormat = 'grants'): string[] {
  const read = readTokenPolicies(policies, groupNames);
  if (format === 'grants') return grantLines(read);
  return read.map((p) => `${p.effect} ${p.groups.join(' + ')} on ${p.resources.map(([key]) => key).join(' + ')}`);
}

/** A member's policies (permission groups on resource groups), one line per group × resource group. */
export function memberGrants(policies: unknown): string[] {
  const out: string[] = [];
  for (const p of arr(policies).map(obj)) {
    const effect = text(p.access) || text(p.effect) || '?';
    const scopes = arr(p.resource_groups).map(obj).map((r) => text(r.name) || text(obj(r.scope).key) || text(r.id) || '?');
    for (const g of arr(p.permission_groups).map(obj)) {
      for (const s of scopes.length ? scopes : ['(no resource group)']) out.push(`${effect} ${text(g.name) || text(g.id) || '?'} on ${s}`);
    }
  }
  return [...new Set(out)].sort();
}

/** `+ added; − removed` between two lists (empty when equal). */
export function listDiff(before: string[], after: string[]): string {
  const added = after.filter((x) => !before.includes(x));
  const removed = before.filter((x) => !after.includes(x));
  return [...added.map((x) => `+ ${x}`), ...removed.map((x) => `− ${x}`)].join('; ');
}

const show = (v: unknown): string => {
  if (v === null || v === undefined) return 'none';
  if (v instanceof Date) return v.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (Array.isArray(v)) return v.length ? v.map(show).join(', ') : 'none';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
};

/**
 * One phrase per changed field: `status: active → disabled`, `policies: + allow Zone Write on …`,
 * `role_names: + Administrator; − DNS`. `fields` holds column names (changed_fields).
 */
export function describeChange(fields: string[], before: Obj, after: Obj, groupNames?: ReadonlyMap<string, string>, kind: 'token' | 'member' = 'token'): string[] {
  return fields.map((f) => {
    const b = before[f];
    const a = after[f];
    if (f === 'policies') {
      const diff = kind === 'token' ? listDiff(tokenGrants(b, groupNames), tokenGrants(a, groupNames)) : listDiff(memberGrants(b), memberGrants(a));
      return `policies: ${diff || 'reordered'}`;
    }
    if (Array.isArray(a) || Array.isArray(b)) return `${f}: ${listDiff(arr(b).map(show), arr(a).map(show)) || 'reordered'}`;
    return `${f}: ${show(b)} → ${show(a)}`;
  });
}
