import { memberGrants } from '../history/describe.js';
import type { ReviewItem } from '../db/schema/index.js';

// Pure: what differs between two reviews' frozen items. Only what a reviewer signs off counts as
// a change (access, status, protection, owner); last use and last activity move on every day and
// are not changes of access.

type Obj = Record<string, unknown>;
const sorted = (v: unknown) => (Array.isArray(v) ? v.map(String).sort() : []);
const text = (v: unknown) => (v === null || v === undefined ? null : String(v));

/** A review frozen before effective access was recorded has none: null, and not compared (not "everything appeared"). */
const accessOf = (s: Obj) => ('access' in s ? sorted(s.access) : null);

/** The compared fields of an item, each as a comparable value. */
const FIELDS: Record<'member' | 'token', Record<string, (s: Obj) => unknown>> = {
  member: {
    status: (s) => text(s.status),
    roles: (s) => sorted(s.roles),
    policies: (s) => memberGrants(s.policies),
    two_factor_enabled: (s) => s.two_factor_enabled ?? null,
    // Effective access per path (effective_access): a path that appeared or went is a change even when roles are equal.
    access: (s) => accessOf(s),
  },
  token: {
    name: (s) => text(s.name),
    status: (s) => text(s.status),
    owner: (s) => text(s.owner),
    grants: (s) => sorted(s.grants),
    access: (s) => accessOf(s),
    expires_on: (s) => text(s.expires_on),
    not_before: (s) => text(s.not_before),
    ip_allow: (s) => sorted(s.ip_allow),
    ip_deny: (s) => sorted(s.ip_deny),
  },
};

export interface DiffItem { key: string; kind: 'member' | 'token'; account_id: string | null; label: string }
export interface FieldChange { field: string; before: unknown; after: unknown }
export interface ReviewDiff {
  added: DiffItem[];
  removed: DiffItem[];
  changed: Array<DiffItem & { changes: FieldChange[] }>;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const head = (i: ReviewItem): DiffItem => ({ key: i.itemKey, kind: i.kind, account_id: i.accountId, label: i.label });
const byKey = (a: DiffItem, b: DiffItem) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0);

export function diffReviews(before: ReviewItem[], after: ReviewItem[]): ReviewDiff {
  const old = new Map(before.map((i) => [i.itemKey, i]));
  const now = new Map(after.map((i) => [i.itemKey, i]));
  const changed: ReviewDiff['changed'] = [];
  for (const [key, n] of now) {
    const o = old.get(key);
    if (!o) continue;
    const changes = Object.entries(FIELDS[n.kind])
      .map(([field, get]) => ({ field, before: get(o.snapshot as Obj), after: get(n.snapshot as Obj) }))
      .filter((c) => !same(c.before, c.after) && !(c.field === 'access' && (c.before === null || c.after === null)));
    if (changes.length) changed.push({ ...head(n), changes });
  }
  return {
    added: after.filter((i) => !old.has(i.itemKey)).map(head).sort(byKey),
    removed: before.filter((i) => !now.has(i.itemKey)).map(head).sort(byKey),
    changed: changed.sort(byKey),
  };
}
