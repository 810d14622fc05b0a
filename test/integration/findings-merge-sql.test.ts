// The SQL merge (src/findings/merge.ts) against the pure planner (src/findings/plan.ts) on the
// same cases (test/helpers/plan-cases.ts): the same events in the same order, every row the
// planner writes in the state it says, every other row untouched, and an open state finding
// the rule returned unchanged not rewritten at all (its xmin stays): writes grow with changes.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markRuleChecked } from '../../src/db/queries/rule-states.js';
import { applyRuleResult } from '../../src/findings/apply.js';
import type { FindingWrite } from '../../src/findings/plan.js';
import { CASE_NOW, CASE_RULE, type PlanCase, PLAN_CASES, planCase, suppressionRules } from '../helpers/plan-cases.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;
const T0 = new Date('2030-01-01T00:00:00Z');
const TITLE = 'the rule';
const q = async (text: string, params: unknown[] = []) => (await db.pool.query(text, params)).rows;

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

async function seed(c: PlanCase): Promise<void> {
  await q(`truncate findings, finding_events, rule_states restart identity cascade`);
  await q(`delete from accounts`);
  for (const [id, why] of Object.entries(c.deletedAccounts ?? {})) {
    await q(`insert into accounts (id, name, raw, deleted_at, deleted_reason) values ($1, $1, '{}', $2, $3)`, [id, T0, why]);
  }
  for (const f of c.existing) {
    const resolved = f.status === 'resolved';
    await q(
      `insert into findings (fingerprint, rule_id, kind, resource_key, resource_type, resource_name, account_id, severity, status, suppressed, suppression_id, title,
                             facts, first_seen_at, last_seen_at, updated_at, last_event_at, resolved_at, resolution_reason, reopened_count)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $14, $15, $16, $17, $18)`,
      [f.fingerprint, CASE_RULE, c.kind ?? 'state', f.resourceKey, f.resourceType, f.resourceName, f.accountId, f.severity, f.status, f.suppressed, f.suppressionId, TITLE,
        f.facts, T0, f.lastEventAt, resolved ? T0 : null, resolved ? 'earlier' : null, f.reopenedCount],
    );
  }
  await q(`insert into rule_states (rule_id, kind, status, first_checked_at, last_checked_at, status_changed_at) values ($1, $2, 'active', $3, $3, $3)`, [CASE_RULE, c.kind ?? 'state', T0]);
}

const rows = async () => {
  const list = await q(`select f.*, f.xmin::text as xmin, finding_last_seen(f) as seen from findings f order by f.id`);
  return new Map(list.map((r) => [r.fingerprint as string, r]));
};

/** A set-based rule's query returning the case's hits, in order (HitRow's columns). */
const hitsQuery = (c: PlanCase) => sql`
  select h.resource_key, h.resource_type, h.resource_name, h.account_id, h.severity, h.facts, h.last_event_at
  from rows from (jsonb_to_recordset(${JSON.stringify(c.hits.map((x) => ({ resource_key: x.resourceKey, resource_type: x.resourceType, resource_name: x.resourceName, account_id: x.accountId, severity: x.severity, facts: x.facts, last_event_at: x.lastEventAt })))}::jsonb)
    as (resource_key text, resource_type text, resource_name text, account_id text, severity text, facts jsonb, last_event_at timestamptz)) with ordinality as h
  order by h.ordinality`;

/** The SQL merge, as a check run calls it (src/rules/rule-run.ts): hits from Node, or staged from a set-based rule's query. */
async function merge(c: PlanCase, from: 'node' | 'query') {
  return db.db.transaction(async (tx) => {
    const before = await markRuleChecked(tx, CASE_RULE, c.kind ?? 'state', CASE_NOW, c.dayFacts);
    const applied = await applyRuleResult(
      tx,
      { ruleId: CASE_RULE, title: TITLE, kind: c.kind ?? 'state', severity: 'medium', hits: from === 'node' ? c.hits : hitsQuery(c), retireAll: c.retireAll, retire: (key) => c.retired?.[key], dayFacts: c.dayFacts },
      { suppressions: suppressionRules(c), now: CASE_NOW, checkRunId: null, confirmedAt: before.lastCheckedAt },
    );
    expect(applied.hits).toBe(c.hits.length);
    return applied.transitions;
  });
}

/** A row as the planner says it is after its write. */
function expectedRow(w: FindingWrite, old: Record<string, unknown> | undefined) {
  const resolution = w.resolved ? w.resolution : w.status === 'open' ? { reason: null, by: null, note: null } : undefined;
  return {
    status: w.status, suppressed: w.suppressed, suppression_id: w.suppressionId === null ? null : String(w.suppressionId), severity: w.severity, facts: w.facts,
    resource_type: w.resourceType, resource_name: w.resourceName, account_id: w.accountId, reopened_count: w.reopenedCount,
    last_event_at: w.lastEventAt === null ? null : new Date(w.lastEventAt),
    updated_at: w.changed ? CASE_NOW : old!.updated_at,
    seen: w.seen ? CASE_NOW : old!.seen,
    resolved_at: w.resolved ? CASE_NOW : w.status === 'open' ? null : old!.resolved_at,
    ...(resolution && { resolution_reason: resolution.reason, resolved_by: resolution.by, resolution_note: resolution.note }),
  };
}

describe('the SQL merge does what the planner says', () => {
  const cases = PLAN_CASES.flatMap((c) => (['node', 'query'] as const).map((from) => [`${c.name} (hits from ${from})`, c, from] as const));
  it.each(cases)('%s', async (_name, c, from) => {
    await seed(c);
    const before = await rows();
    const plan = planCase(c);
    const written = await merge(c, from);
    const after = await rows();

    expect(written.map((t) => [t.transition, t.reason])).toEqual(c.expected);
    // The events come back without their facts: those are in finding_events, written in the same order.
    const eventFacts = (await q(`select facts from finding_events order by id`)).map((r) => r.facts);
    expect(written.map((t, i) => ({ fingerprint: t.fingerprint, transition: t.transition, fromSeverity: t.fromSeverity, toSeverity: t.toSeverity, facts: eventFacts[i], reason: t.reason, by: t.by, note: t.note })))
      .toEqual(plan.events.map((e) => ({ fingerprint: e.fingerprint, transition: e.transition, fromSeverity: e.fromSeverity, toSeverity: e.toSeverity, facts: e.facts, reason: e.reason ?? null, by: e.by ?? null, note: e.note ?? null })));
    expect((await q(`select count(*)::int as n from finding_events`))[0].n).toBe(plan.events.length);

    const writes = new Map([...plan.inserts, ...plan.updates].map((w) => [w.fingerprint, w]));
    expect([...after.keys()].sort()).toEqual([...new Set([...before.keys(), ...writes.keys()])].sort());
    for (const t of written) {
      const w = writes.get(t.fingerprint)!;
      // What the alerts stage reads as an event's facts: the finding's as written with it.
      expect(after.get(t.fingerprint)!.facts).toEqual(eventFacts[written.indexOf(t)]);
      expect({ key: t.resourceKey, severity: t.severity, suppressed: t.suppressed, id: t.findingId }).toEqual({ key: w.resourceKey, severity: w.severity, suppressed: w.suppressed, id: Number(after.get(t.fingerprint)!.id) });
    }
    for (const [fp, row] of after) {
      const old = before.get(fp);
      const w = writes.get(fp);
      if (!w) expect(row).toEqual(old);
      else {
        expect(row, fp).toMatchObject(expectedRow(w, old));
        if (!old) expect([row.kind, row.title, row.first_seen_at, row.last_seen_at]).toEqual([c.kind ?? 'state', TITLE, CASE_NOW, CASE_NOW]);
        // Returned unchanged and still open: nothing to write, "last seen" is the rule's check.
        if (old && w.kind === 'state' && !w.changed && w.status === 'open') expect(row.xmin).toBe(old.xmin);
      }
    }
  });
});
