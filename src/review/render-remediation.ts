import { tokenGrants } from '../history/describe.js';
import type { Evidence } from './evidence.js';

// The remediation part of the evidence pack (what was done about the revocations) as text cells,
// for the md, html and csv exports; the JSON pack carries the whole record (requests with bodies,
// the API's answers). Pure and order-stable: plans, then actions, then outcomes, as recorded.

type Plan = Evidence['remediation'][number];
type Action = Plan['actions'][number];
type Obj = Record<string, unknown>;

export const REMEDIATION_HEADER = ['plan', 'planned by', 'approvals', '#', 'action', 'object', 'request', 'before', 'after', 'outcome', 'audit-log entries'];

/** The fields of an object's state an action depends on, as one line: status, expiry, not_before, email, policies, condition. */
export function stateText(state: unknown): string {
  if (state === null || state === undefined) return 'gone';
  if (typeof state !== 'object') return String(state);
  const o = state as Obj;
  const parts = ['status', 'expires_on', 'not_before', 'email'].filter((k) => o[k] !== undefined && o[k] !== null).map((k) => `${k}=${String(o[k])}`);
  if (Array.isArray(o.policies)) parts.push(`policies=${tokenGrants(o.policies, undefined, 'policies').join('; ')}`);
  if (o.condition) parts.push(`condition=${JSON.stringify(o.condition)}`);
  return parts.join(', ');
}

/** The state read after the latest apply: what the object is now as far as flarewatch changed it. */
function afterText(a: Action): string {
  const last = a.outcomes.filter((o) => o.phase === 'apply').at(-1);
  if (!last) return 'not applied';
  if (last.after_state === null || last.after_state === undefined) return last.status === 'applied' ? 'gone' : 'unchanged (nothing sent)';
  return stateText(last.after_state);
}

const outcomeText = (a: Action) => a.outcomes.map((o) => `${o.phase} ${o.status} at ${o.at}${o.verified ? ' (verified)' : ''}${o.reason ? `: ${o.reason}` : ''}`).join('; ') || 'not applied';
const approvalsText = (p: Plan) => p.approvals.map((x) => `${x.by} (${x.via}) at ${x.at}`).join('; ') || 'none';

/** One row per action of every plan, cells as in REMEDIATION_HEADER. */
export function remediationRows(e: Evidence): string[][] {
  return e.remediation.flatMap((p) => p.actions.map((a) => [
    String(p.plan), `${p.planned_by} at ${p.planned_at} (credential ${p.credential})`, approvalsText(p), String(a.seq), `${a.kind}${a.reversible ? '' : ' (irreversible)'}`,
    a.object_key, `${a.request.method} ${a.request.path}`, stateText(a.before), afterText(a), outcomeText(a),
    a.audit_entries.map((x) => `${x.source} ${x.id} at ${x.event_time}`).join('; '),
  ]));
}

export const REMEDIATION_CSV_HEADER = ['remediation_plans', 'remediation_approvals', 'remediation_actions', 'remediation_before', 'remediation_after', 'remediation_outcomes'];

/** The remediation cells of one review item's CSV row: what every plan did to the object it names. */
export function remediationCells(e: Evidence, itemKey: string): string[] {
  const mine = e.remediation.flatMap((p) => p.actions.filter((a) => a.object_key === itemKey).map((a) => ({ p, a })));
  const join = (f: (x: { p: Plan; a: Action }) => string) => mine.map(f).join(' | ');
  return [
    join(({ p }) => `plan ${p.plan} by ${p.planned_by} at ${p.planned_at}`), join(({ p }) => approvalsText(p)),
    join(({ a }) => `${a.kind} ${a.request.method} ${a.request.path}`), join(({ a }) => stateText(a.before)), join(({ a }) => afterText(a)), join(({ a }) => outcomeText(a)),
  ];
}
