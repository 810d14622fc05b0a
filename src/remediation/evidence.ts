import { sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';

/**
 * The remediation record of a review, for its evidence pack: every plan made from the review's
 * revoke decisions, with each action's request, before-state, approvals, outcomes (the API's answer
 * and the state read after) and the audit-log entries the writes caused. Append-only rows only.
 */
export interface RemediationRecord {
  plan: number; planned_by: string; planned_at: string; credential: string;
  approvals: Array<{ by: string; at: string; via: string }>;
  actions: Array<{ seq: number; kind: string; object_key: string; request: { method: string; path: string; body: unknown }; reversible: boolean;
    before: unknown; outcomes: Array<{ phase: string; status: string; reason: string | null; answer: unknown; after_state: unknown; verified: boolean; at: string }>;
    audit_entries: Array<{ source: string; id: string; event_time: string }> }>;
}

const iso = (d: unknown) => new Date(d as string).toISOString().replace(/\.\d{3}Z$/, 'Z');

export async function remediationOfReview(tx: Tx, reviewId: number): Promise<RemediationRecord[]> {
  const { rows } = await tx.execute<{ id: number; created_by: string; created_at: string; credential: string }>(
    sql`select id, created_by, created_at, credential from remediation_plans where (source->>'review')::int = ${reviewId} order by id`);
  const out: RemediationRecord[] = [];
  for (const p of rows) {
    const approvals = (await tx.execute<{ approved_by: string; approved_at: string; via: string }>(sql`select approved_by, approved_at, via from remediation_approvals where plan_id = ${p.id} order by id`)).rows;
    const actions = (await tx.execute<{ id: string; seq: number; kind: string; object_key: string; method: string; path: string; body: unknown; reversible: boolean; before: unknown }>(
      sql`select id, seq, kind, object_key, method, path, body, reversible, before from remediation_actions where plan_id = ${p.id} order by seq`)).rows;
    const record: RemediationRecord = { plan: p.id, planned_by: p.created_by, planned_at: iso(p.created_at), credential: p.credential,
      approvals: approvals.map((a) => ({ by: a.approved_by, at: iso(a.approved_at), via: a.via })), actions: [] };
    for (const a of actions) {
      const outcomes = (await tx.execute<{ phase: string; status: string; reason: string | null; answer: unknown; after_state: unknown; verified: boolean; at: string }>(
        sql`select phase, status, reason, answer, after_state, verified, at from remediation_outcomes where action_id = ${a.id} order by id`)).rows;
      const audit = (await tx.execute<{ source: string; audit_id: string; event_time: string }>(
        sql`select distinct source, audit_id, event_time from remediation_audit_links where action_id = ${a.id} order by event_time, audit_id`)).rows;
      record.actions.push({ seq: a.seq, kind: a.kind, object_key: a.object_key, request: { method: a.method, path: a.path, body: a.body }, reversible: a.reversible, before: a.before,
        outcomes: outcomes.map((o) => ({ ...o, at: iso(o.at) })), audit_entries: audit.map((e) => ({ source: e.source, id: e.audit_id, event_time: iso(e.event_time) })) });
    }
    out.push(record);
  }
  return out;
}
