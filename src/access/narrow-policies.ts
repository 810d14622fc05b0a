/**
 * A token's policies narrowed to the write access it was seen to use. Pure: no I/O, unit-tested
 * in test/unit/narrow-policies.test.ts; the rule token-unused-write-access feeds it the groups
 * access_used() found in the audit log v2.
 *
 * The account audit log v2 records writes only (GET requests are not logged), so the evidence can
 * only ever say a *write* group went unused. Hence:
 *
 * - every read group is kept, used or not (no evidence either way);
 * - a write group (isWriteGroup: name ending in Write/Edit, or a configured one such as Cache
 *   Purge) is kept when it was used, dropped when it was not;
 * - a group whose name cannot be resolved (no name, id unknown to the permission_groups listing)
 *   is kept: nothing is removed that cannot be judged;
 * - deny policies are kept as they are (dropping one could only widen the token);
 * - a policy on anything but accounts and zones (a user's own tokens and details,
 *   `com.cloudflare.api.user.<id>`; R2 buckets) is kept whole: writes there are not in an
 *   account's audit log, so its groups are listed as not judged instead;
 * - an allow policy left with no permission group is dropped; resources are never changed
 *   (narrowing is by group, not by zone: a DNS Write used in one zone is kept for all its zones).
 *
 * The result is in the API's shape, `{ effect, permission_groups: [{ id, name }], resources }`,
 * ready for PUT /user/tokens/{id} or /accounts/{account}/tokens/{id} as the token's `policies`.
 */

import { isWriteGroup } from '../rules/policy-model.js';

export interface SuggestedPolicy {
  effect: 'allow' | 'deny';
  permission_groups: Array<{ id: string; name: string }>;
  resources: Record<string, unknown>;
}

export interface NarrowOptions {
  /** Permission group names exercised in the window (compared case-insensitively). */
  used: Iterable<string>;
  /** Names of permission groups by id, for policies that list groups by id only. */
  groupNames?: ReadonlyMap<string, string>;
  /** Groups that count as write although their name does not end in Write/Edit. */
  writeGroups?: readonly string[];
}

export interface Narrowing {
  /** Write groups granted and not used, each once, in policy order. */
  unusedWrite: string[];
  /** Write groups granted and used. */
  usedWrite: string[];
  /** Write groups of policies the account audit log cannot judge (user- or bucket-level resources): kept. */
  notJudged: string[];
  policies: SuggestedPolicy[];
  /** Why the narrowed policies cannot be applied as they are (a group without id, a policy of unknown shape). */
  incomplete: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const norm = (s: string) => s.trim().toLowerCase();
const pushOnce = (list: string[], v: string) => (list.includes(v) ? undefined : list.push(v));

function effectOf(p: Obj): 'allow' | 'deny' | undefined {
  const e = typeof p.effect === 'string' ? p.effect : typeof p.access === 'string' ? p.access : undefined;
  const n = e ? norm(e) : undefined;
  return n === 'allow' || n === 'deny' ? n : undefined;
}

interface GroupVerdict { keep: boolean; group?: { id: string; name: string }; name?: string; write: boolean }

function judgeGroup(g: unknown, effect: 'allow' | 'deny', used: Set<string>, opts: NarrowOptions, incomplete: string[]): GroupVerdict {
  if (!isObj(g)) {
    incomplete.push('a permission group entry is not an object');
    return { keep: true, write: false };
  }
  const id = typeof g.id === 'string' && g.id !== '' ? g.id : undefined;
  const embedded = typeof g.name === 'string' && g.name.trim() !== '' ? g.name : undefined;
  const name = embedded ?? (id ? opts.groupNames?.get(id) : undefined);
  if (!id) incomplete.push(`permission group ${name ?? '(unnamed)'} has no id`);
  const write = name !== undefined && isWriteGroup(name, opts.writeGroups);
  const keep = effect === 'deny' || !write || used.has(norm(name));
  return { keep, name, write, ...(id ? { group: { id, name: name ?? id } } : {}) };
}

const ACCOUNT_KEY = /^com\.cloudflare\.api\.account(\.|$)/;

/** True when every resource key (outer and nested) is an account or zone key: writes there reach an account's log. */
export function accountLevel(resources: unknown): boolean {
  if (!isObj(resources)) return false;
  const keys = Object.entries(resources).flatMap(([k, v]) => [k, ...(isObj(v) ? Object.keys(v) : [])]);
  return keys.length > 0 && keys.every((k) => ACCOUNT_KEY.test(k));
}

/** Narrow a token's `policies` (any jsonb value; a non-array grants nothing) to the write groups used. */
export function narrowPolicies(policies: unknown, opts: NarrowOptions): Narrowing {
  const used = new Set([...opts.used].map(norm));
  const out: Narrowing = { unusedWrite: [], usedWrite: [], notJudged: [], policies: [], incomplete: [] };
  for (const p of Array.isArray(policies) ? policies : []) {
    const effect = isObj(p) ? effectOf(p) : undefined;
    if (!isObj(p) || !effect) {
      out.incomplete.push('a policy has no allow/deny effect');
      continue;
    }
    const kept: SuggestedPolicy['permission_groups'] = [];
    const judged = accountLevel(p.resources);
    for (const g of Array.isArray(p.permission_groups) ? p.permission_groups : []) {
      const v = judgeGroup(g, effect, used, opts, out.incomplete);
      const keep = v.keep || !judged;
      if (v.write && effect === 'allow' && v.name) pushOnce(!judged ? out.notJudged : keep ? out.usedWrite : out.unusedWrite, v.name);
      if (keep && v.group) kept.push(v.group);
    }
    if (kept.length === 0 && effect === 'allow') continue;
    out.policies.push({ effect, permission_groups: kept, resources: structuredClone(isObj(p.resources) ? p.resources : {}) });
  }
  return out;
}
