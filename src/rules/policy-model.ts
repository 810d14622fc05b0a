/**
 * The breadth/sensitivity model for API token policies. Pure: no I/O, unit-tested in
 * test/unit/policy-model.test.ts; the SQL filter in ./sql.ts (policiesSensitiveOrBroadWrite)
 * applies the same constants so the database returns candidates and this module explains them.
 *
 * A token's `policies` is a list of { effect, permission_groups[], resources{} }.
 *
 * - Only `allow` policies grant. Deny policies are NOT subtracted: a deny carve-out on one
 *   zone still leaves every other zone writable, and over-reporting a token is cheaper than
 *   missing one.
 * - Resources are the keys of `resources`; in the nested form
 *   { "com.cloudflare.api.account.<id>": { "com.cloudflare.api.account.zone.*": "*" } }
 *   the inner keys are what is granted (the outer account key only scopes them).
 * - A resource is BROAD when it is every account (`com.cloudflare.api.account.*`) or every
 *   zone (`com.cloudflare.api.account.zone.*`), flat or nested under one account.
 * - A permission group is WRITE when its name ends with the word "Write" or "Edit", or is one
 *   of the groups that change state without saying so (`Cache Purge`, configurable).
 * - A permission group is SENSITIVE when it lets its holder take over or hide from the
 *   account: token management, memberships, account settings, billing, the user's own
 *   details, Access identity configuration (configurable).
 * - Names come from the policy's `permission_groups[].name`, else from the synced
 *   permission_groups table by id; compared case-insensitively.
 *
 * Verdict: any allow of a sensitive group, on any resource → `sensitive` (critical);
 * else an allow of a write group on a broad resource → `broad_write` (high); else none.
 */

import type { Severity } from './types.js';

export const ALL_ACCOUNTS = 'com.cloudflare.api.account.*';
export const ALL_ZONES = 'com.cloudflare.api.account.zone.*';
export const BROAD_RESOURCES: readonly string[] = [ALL_ACCOUNTS, ALL_ZONES];

/** Write groups whose name does not end in Write/Edit. */
export const DEFAULT_WRITE_GROUPS: readonly string[] = ['Cache Purge'];

/** Groups whose holder can mint credentials, add members, change account security or billing. */
export const DEFAULT_SENSITIVE_GROUPS: readonly string[] = [
  'API Tokens Write',
  'Account API Tokens Write',
  'Memberships Write',
  'Account Memberships Write',
  'Account Settings Write',
  'Billing Write',
  'User Details Write',
  'Access: Organizations, Identity Providers, and Groups Write',
];

/** Same pattern in SQL (./sql.ts): a name whose last word is write or edit. */
export const WRITE_SUFFIX = '(^|[^a-z])(write|edit)$';
const WRITE_SUFFIX_RE = new RegExp(WRITE_SUFFIX);

/** One sentence stored in every finding's facts, so an alert carries the model it was judged by. */
export const MODEL_SUMMARY =
  'sensitive = an allow policy grants a sensitive permission group on any resource; ' +
  'broad_write = an allow policy grants a Write/Edit (or Cache Purge) group on all accounts or all zones; deny policies are not subtracted';

export interface ModelOptions {
  sensitiveGroups?: readonly string[];
  writeGroups?: readonly string[];
  /** Names of permission groups by id, for policies that list groups by id only. */
  groupNames?: ReadonlyMap<string, string>;
}

export interface SensitiveGrant { policy_id: string | null; group: string; resources: string[] }
export interface BroadWriteGrant { policy_id: string | null; groups: string[]; resources: string[] }

export interface PolicyAssessment {
  verdict: 'sensitive' | 'broad_write' | null;
  sensitive: SensitiveGrant[];
  broad_write: BroadWriteGrant[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const norm = (s: string) => s.trim().toLowerCase();

/** The granted resource keys of one policy's `resources`, unnesting the account → zones form. */
export function resourceKeys(resources: unknown): string[] {
  if (!isObj(resources)) return [];
  return Object.entries(resources).flatMap(([key, value]) =>
    isObj(value) && Object.keys(value).length > 0 ? Object.keys(value) : [key]);
}

export const isBroadResource = (key: string) => BROAD_RESOURCES.includes(key);

export function isWriteGroup(name: string, writeGroups: readonly string[] = DEFAULT_WRITE_GROUPS): boolean {
  const n = norm(name);
  return WRITE_SUFFIX_RE.test(n) || writeGroups.some((g) => norm(g) === n);
}

export function isSensitiveGroup(name: string, sensitiveGroups: readonly string[] = DEFAULT_SENSITIVE_GROUPS): boolean {
  const n = norm(name);
  return sensitiveGroups.some((g) => norm(g) === n);
}

/** `allow` unless it says deny; member policies call the field `access` instead of `effect`. */
export function isAllow(policy: unknown): boolean {
  if (!isObj(policy)) return false;
  const effect = policy.effect ?? policy.access;
  return typeof effect === 'string' && norm(effect) === 'allow';
}

/** Permission group names of a policy: the embedded name, else the catalogue's name for its id. */
export function groupNamesOf(policy: unknown, groupNames?: ReadonlyMap<string, string>): string[] {
  const groups = isObj(policy) && Array.isArray(policy.permission_groups) ? policy.permission_groups : [];
  return groups.flatMap((g) => {
    if (!isObj(g)) return [];
    const name = typeof g.name === 'string' && g.name.trim() !== '' ? g.name : typeof g.id === 'string' ? groupNames?.get(g.id) : undefined;
    return name ? [name] : [];
  });
}

/** What one policy grants: an allow policy's sensitive groups and its write groups on broad resources; nothing for any other. */
export function policyGrants(policy: unknown, opts: ModelOptions = {}): { sensitive: Array<{ group: string; resources: string[] }>; broadWrite: { groups: string[]; resources: string[] } | null } {
  if (!isAllow(policy)) return { sensitive: [], broadWrite: null };
  const p = policy as Obj;
  const names = groupNamesOf(p, opts.groupNames);
  const resources = resourceKeys(p.resources);
  const sensitive = names.filter((n) => isSensitiveGroup(n, opts.sensitiveGroups)).map((group) => ({ group, resources }));
  const broad = resources.filter(isBroadResource);
  const writes = names.filter((n) => isWriteGroup(n, opts.writeGroups));
  return { sensitive, broadWrite: broad.length && writes.length ? { groups: writes, resources: broad } : null };
}

const policyIdOf = (policy: unknown) => (isObj(policy) && typeof policy.id === 'string' ? policy.id : null);

/** Judge a token's policies (any jsonb value: a non-array grants nothing). */
export function assessPolicies(policies: unknown, opts: ModelOptions = {}): PolicyAssessment {
  const sensitive: SensitiveGrant[] = [];
  const broadWrite: BroadWriteGrant[] = [];
  for (const policy of Array.isArray(policies) ? policies : []) {
    const g = policyGrants(policy, opts);
    const policyId = policyIdOf(policy);
    for (const s of g.sensitive) sensitive.push({ policy_id: policyId, ...s });
    if (g.broadWrite) broadWrite.push({ policy_id: policyId, ...g.broadWrite });
  }
  const verdict = sensitive.length ? 'sensitive' : broadWrite.length ? 'broad_write' : null;
  return { verdict, sensitive, broad_write: broadWrite };
}

/**
 * A token's assessment with each grant naming its policy by position (`policy_index`, from 0)
 * instead of by id: the same for every token whose policies differ only in their ids, so it is
 * worked out once per such policy set and the ids filled in per token (token-broad-policy).
 */
export interface AssessmentTemplate {
  verdict: PolicyAssessment['verdict'];
  sensitive_groups: string[];
  sensitive_grants: Array<{ policy_index: number; group: string; resources: string[] }>;
  broad_write_grants: Array<{ policy_index: number; groups: string[]; resources: string[] }>;
}

export function assessmentTemplate(policies: unknown, opts: ModelOptions = {}): AssessmentTemplate {
  const sensitive: AssessmentTemplate['sensitive_grants'] = [];
  const broadWrite: AssessmentTemplate['broad_write_grants'] = [];
  (Array.isArray(policies) ? policies : []).forEach((policy, policyIndex) => {
    const g = policyGrants(policy, opts);
    for (const s of g.sensitive) sensitive.push({ policy_index: policyIndex, ...s });
    if (g.broadWrite) broadWrite.push({ policy_index: policyIndex, ...g.broadWrite });
  });
  const verdict = sensitive.length ? 'sensitive' : broadWrite.length ? 'broad_write' : null;
  return { verdict, sensitive_groups: [...new Set(sensitive.map((s) => s.group))], sensitive_grants: sensitive, broad_write_grants: broadWrite };
}

export function severityOf(a: Pick<PolicyAssessment, 'verdict'>): Severity | undefined {
  return a.verdict === 'sensitive' ? 'critical' : a.verdict === 'broad_write' ? 'high' : undefined;
}

/** The facts a finding carries: the verdict, what caused it, and the model's one-line definition. */
export function assessmentFacts(a: PolicyAssessment): Record<string, unknown> {
  return {
    verdict: a.verdict,
    sensitive_groups: [...new Set(a.sensitive.map((s) => s.group))],
    sensitive_grants: a.sensitive,
    broad_write_grants: a.broad_write,
    policy_model: MODEL_SUMMARY,
  };
}
