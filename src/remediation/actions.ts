import type { RemediationKind } from '../db/schema/index.js';
import type { Target } from './targets.js';
import type { WriteRequest } from './write-client.js';

/**
 * Pure parts of an action: the request it sends for an object as read, the state it assumes, whether
 * the state read later is what was intended, and the request that undoes it. A token has no PATCH:
 * every change is a full-object PUT built from the token as read (a partial body would strip its policies).
 */

type Obj = Record<string, unknown>;
export interface TokenPolicyInput { id?: string; effect: 'allow' | 'deny'; permission_groups: Array<{ id: string; name?: string }>; resources: Obj }

export interface ActionSpec {
  kind: RemediationKind;
  request: WriteRequest;
  /** The state assumed: `modified_on` (where the object has one) and the fields the change depends on. */
  precondition: { modified_on: unknown; fields: Obj };
  reversible: boolean;
  destructive: boolean;
  /** What the object's fields are to be after (for verification); `gone` for a deletion. */
  expect: Obj | 'gone';
}

export interface BuildOptions { expiresOn?: string; policies?: TokenPolicyInput[]; now?: number }

/** The body of a token PUT: every field the API keeps, from the object as read, with `change` over it. */
export function fullTokenBody(token: Obj, change: Obj = {}): Obj {
  const source = { ...token, ...change };
  const policies = (source.policies as TokenPolicyInput[] | undefined ?? []).map((p) => ({
    ...(p.id ? { id: p.id } : {}), effect: p.effect, permission_groups: p.permission_groups.map((g) => ({ id: g.id })), resources: p.resources,
  }));
  const body: Obj = { name: source.name, policies, status: source.status === 'disabled' ? 'disabled' : 'active' };
  for (const k of ['condition', 'expires_on', 'not_before'] as const) if (source[k] !== undefined && source[k] !== null) body[k] = source[k];
  return body;
}

const pick = (o: Obj, keys: string[]): Obj => Object.fromEntries(keys.map((k) => [k, o[k] ?? null]));
const groupIds = (policies: unknown) => (policies as TokenPolicyInput[] | undefined ?? []).map((p) => ({ effect: p.effect, groups: p.permission_groups.map((g) => g.id).sort(), resources: p.resources }));

export class ActionRefused extends Error {
  override name = 'ActionRefused';
}

function tokenAction(kind: RemediationKind, target: Target, t: Obj, opts: BuildOptions): ActionSpec {
  const pre = (fields: string[]) => ({ modified_on: t.modified_on ?? null, fields: pick(t, fields) });
  const put = (change: Obj): WriteRequest => ({ method: 'PUT', path: target.path, body: fullTokenBody(t, change) });
  switch (kind) {
    case 'token-disable':
      if (t.status !== 'active') throw new ActionRefused(`${target.objectKey}: already ${String(t.status)}`);
      return { kind, request: put({ status: 'disabled' }), precondition: pre(['status']), reversible: true, destructive: true, expect: { status: 'disabled' } };
    case 'token-set-expiry':
      if (t.expires_on) throw new ActionRefused(`${target.objectKey}: already expires on ${String(t.expires_on)}`);
      if (!opts.expiresOn) throw new ActionRefused(`${target.objectKey}: setting an expiry needs the date`);
      return { kind, request: put({ expires_on: opts.expiresOn }), precondition: pre(['expires_on']), reversible: true, destructive: false, expect: { expires_on: opts.expiresOn } };
    case 'token-delete': {
      const expired = t.status === 'expired' || (typeof t.expires_on === 'string' && Date.parse(t.expires_on) <= (opts.now ?? Date.now()));
      if (!expired && t.status !== 'disabled') throw new ActionRefused(`${target.objectKey}: only an expired or disabled token is deleted (it is ${String(t.status)}); disable it first`);
      return { kind, request: { method: 'DELETE', path: target.path }, precondition: pre(['status', 'expires_on']), reversible: false, destructive: true, expect: 'gone' };
    }
    case 'token-narrow':
      if (!opts.policies?.length) throw new ActionRefused(`${target.objectKey}: narrowing needs suggested policies (facts.suggestedPolicies)`);
      return { kind, request: put({ policies: opts.policies }), precondition: pre(['policies']), reversible: true, destructive: true, expect: { policies: opts.policies } };
    case 'token-roll':
      return { kind, request: { method: 'PUT', path: `${target.path}/value`, body: {} }, precondition: pre(['status']), reversible: false, destructive: true, expect: {} };
    default:
      throw new ActionRefused(`${target.objectKey}: ${kind} does not apply to a token`);
  }
}

/** The action `kind` on `target`, given the object as just read. Throws ActionRefused with the reason. */
export function buildAction(kind: RemediationKind, target: Target, current: Obj, opts: BuildOptions = {}): ActionSpec {
  if (target.type === 'token') return tokenAction(kind, target, current, opts);
  const del: WriteRequest = { method: 'DELETE', path: target.path };
  const pre = (fields: string[]) => ({ modified_on: null, fields: pick(current, fields) });
  if (target.type === 'member' && (kind === 'member-remove' || kind === 'invitation-remove')) {
    const pending = current.status === 'pending';
    if (kind === 'invitation-remove' && !pending) throw new ActionRefused(`${target.objectKey}: not a pending invitation (status ${String(current.status)})`);
    return { kind: pending ? 'invitation-remove' : 'member-remove', request: del, precondition: pre(['status', 'email']), reversible: false, destructive: true, expect: 'gone' };
  }
  if (target.type === 'invite' && kind === 'user-invite-reject') {
    if (current.status !== 'pending') throw new ActionRefused(`${target.objectKey}: the invitation is ${String(current.status)}, not pending`);
    return { kind, request: { method: 'PATCH', path: target.path, body: { status: 'rejected' } }, precondition: pre(['status']), reversible: false, destructive: true, expect: { status: 'rejected' } };
  }
  if (target.type === 'group-member' && kind === 'group-member-remove') {
    return { kind, request: del, precondition: pre(['id', 'status']), reversible: false, destructive: true, expect: 'gone' };
  }
  throw new ActionRefused(`${target.objectKey}: ${kind} does not apply to a ${target.type}`);
}

const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const comparable = (field: string, v: unknown) => (field === 'policies' ? groupIds(v) : v ?? null);

/** Why the object as read now is not the state the plan assumed, or undefined when it is. */
export function stateMoved(pre: { modified_on: unknown; fields: Obj }, current: Obj | null): string | undefined {
  if (!current) return 'the object no longer exists';
  if (pre.modified_on !== null && !same(pre.modified_on, current.modified_on)) {
    return `modified_on moved from ${String(pre.modified_on)} to ${String(current.modified_on)} since the plan`;
  }
  for (const [field, was] of Object.entries(pre.fields)) {
    if (!same(comparable(field, was), comparable(field, current[field]))) return `${field} changed since the plan`;
  }
  return undefined;
}

/** Whether the object as read after the send is what the action intended. */
export function reached(expect: Obj | 'gone', current: Obj | null): boolean {
  if (expect === 'gone') return current === null;
  if (!current) return false;
  return Object.entries(expect).every(([field, v]) => same(comparable(field, v), comparable(field, current[field])));
}

/** The request that restores a reversible token action's before-state (status, expiry, policies, condition, not_before). */
export function undoRequest(path: string, before: Obj): WriteRequest {
  const body = fullTokenBody(before);
  return { method: 'PUT', path, body };
}

/** What undo must find restored: the before-state's fields it controls. */
export function undoExpect(before: Obj): Obj {
  return { status: before.status === 'disabled' ? 'disabled' : 'active', policies: before.policies, expires_on: before.expires_on ?? null,
    not_before: before.not_before ?? null, condition: before.condition ?? null, name: before.name };
}
