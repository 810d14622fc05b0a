// A rule with no findings writes them straight from its staged hits (src/findings/merge-direct.ts)
// instead of through the general merge (src/findings/merge-plan.ts). The same world is checked
// twice: once as it is (every rule without findings takes the direct write) and once with every
// such rule pinned to the general merge by one resolved finding of a key no rule returns. Every
// column of findings, events, alerts and their deliveries must come out the same (ids and the pins
// aside), with built-in rules, suppressions (state and detection), a rule with mixed prior state,
// custom SQL rules, duplicate keys, and rules failing before, inside and after the write.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outboxWriter } from '../../src/alerts/outbox.js';
import { runChecks, type CheckResult } from '../../src/rules/engine.js';
import { BUILTIN_RULES } from '../../src/rules/catalog.js';
import { loadCustomRules } from '../../src/rules/custom.js';
import { fingerprint } from '../../src/findings/fingerprint.js';
import type { Rule } from '../../src/rules/types.js';
import { checkContext, type CheckTestContext } from '../helpers/checks.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;
let ctx: CheckTestContext;
let rules: Rule[];
const NOW = new Date('2030-03-01T12:00:00Z');
const q = async (text: string, params: unknown[] = []) => (await db.pool.query(text, params)).rows;

const SQL_RULES: Record<string, string> = {
  // State, facts from columns, a severity per row, one key returned twice (the first row wins).
  'tokens.sql': `-- id: custom.tokens\n-- title: Tokens named for deploys\n-- severity: low\nselect 'token:' || id as resource_key, 'token' as resource_type, name as resource_name, account_id,
    case when id like '%7' then 'high' end as severity, length(name) as name_length
  from api_tokens where id::text ~ '^t[0-9]+$' and (substr(id, 2)::int) % 4 = 1
  union all select 'token:t1', 'token', 'duplicate', null, 'critical', -1 order by 1 desc, 3 desc`,
  // Detection: one per failed login, with its event time; a suppression closes some at once.
  'logins.sql': `-- id: custom.failed-logins\n-- title: Failed logins\n-- severity: medium\n-- kind: detection\nselect 'login:' || id as resource_key, 'audit_entry' as resource_type, actor_email as resource_name,
    account_id, event_time as last_event_at, actor_ip as ip
  from audit_logs where action_type = 'login' and action_result = 'failure' order by event_time, id`,
  // Fails inside the write in both merges: its second key's fingerprint is taken by another rule's row (seeded below).
  'collide.sql': `-- id: custom.collide\n-- title: Collides\nselect 'thing:' || n as resource_key, 'thing' as resource_type from generate_series(1, 3) n`,
};

/** A rule whose hits come from Node (COPY into the stage), with a key twice and a detection among them. */
const nodeRule = (id: string, kind: Rule['kind'], fail?: 'evaluate'): Rule => ({
  id, title: `node rule ${id}`, severity: 'medium', kind, rationale: 'r', remediation: 'f',
  async evaluate() {
    if (fail) throw new Error(`${id} broke`);
    return [
      { resourceKey: 'acct:acc2', resourceType: 'account', resourceName: 'Account 2', accountId: 'acc2', facts: { n: 2 }, lastEventAt: '2030-02-01T00:00:00Z' },
      { resourceKey: 'acct:acc1', resourceType: 'account', resourceName: 'Account 1', accountId: 'acc1', severity: 'high', facts: { n: 1, list: [1, 'a'] } },
      { resourceKey: 'acct:acc2', resourceType: 'account', resourceName: 'again', accountId: 'acc2', facts: { n: 99 } },
      { resourceKey: 'acct:acc3', resourceType: 'account', resourceName: null, facts: {} },
    ];
  },
});

async function seedWorld(): Promise<void> {
  await q(`insert into accounts (id, name, enforce_twofactor, raw) select 'acc' || a, 'Account ' || a, a % 2 = 0, '{}' from generate_series(1, 3) a`);
  await q(`insert into account_members (id, account_id, email, status, two_factor_enabled, role_names, raw)
           select 'm' || i, 'acc' || (i % 3 + 1), 'user' || i || '@example.com', case when i % 7 = 0 then 'pending' else 'accepted' end, i % 3 <> 0,
                  case i % 5 when 0 then array['Super Administrator - All Privileges'] when 1 then array[]::text[] else array['Administrator'] end, '{}'
           from generate_series(1, 24) i`);
  await q(`insert into api_tokens (id, owner_type, account_id, name, status, issued_on, modified_on, last_used_on, expires_on, ip_allow, policies, raw)
           select 't' || i, case when i % 2 = 0 then 'account' else 'user' end, 'acc' || (i % 3 + 1), 'deploy ' || i,
                  case when i % 11 = 0 then 'expired' else 'active' end,
                  $1::timestamptz - make_interval(days => i * 23 % 900), $1::timestamptz - make_interval(days => i * 13 % 400),
                  case when i % 5 = 0 then null else $1::timestamptz - make_interval(days => i * 7 % 200) end,
                  case i % 4 when 0 then null else $1::timestamptz + make_interval(days => (i % 60) - 20) end,
                  case when i % 3 = 0 then array['192.0.2.0/24'] end,
                  case i % 3
                    when 0 then jsonb_build_array(jsonb_build_object('id', 'p' || i, 'effect', 'allow',
                      'permission_groups', jsonb_build_array(jsonb_build_object('id', 'g-dns-write', 'name', 'DNS Write')),
                      'resources', jsonb_build_object('com.cloudflare.api.account.zone.*', '*')))
                    when 1 then jsonb_build_array(jsonb_build_object('id', 'p' || i, 'effect', 'allow',
                      'permission_groups', jsonb_build_array(jsonb_build_object('id', 'g-acct-read', 'name', 'Account Settings Read')),
                      'resources', jsonb_build_object('com.cloudflare.api.account.acc1', '*')))
                    else '[]'::jsonb end, '{}'
           from generate_series(1, 40) i`, [NOW]);
  for (const m of ['2030-02-01', '2030-03-01']) await q(`select flarewatch_ensure_audit_partition($1::date)`, [m]);
  await q(`insert into audit_logs (source, id, event_time, account_id, action_type, action_result, actor_email, actor_ip, actor_type, resource_type, resource_id, raw)
           select 'account_v2', 'e' || i, $1::timestamptz - make_interval(secs => i * 600), 'acc' || (i % 3 + 1),
                  case i % 10 when 0 then 'token_create' when 1 then 'login' when 2 then 'member_add' else 'update' end,
                  case when i % 10 = 1 and i % 3 < 2 then 'failure' else 'success' end,
                  'user' || (i % 6) || '@example.com', '198.51.100.' || (i % 9), 'user',
                  case i % 10 when 0 then 'api_token' when 2 then 'member' else 'zone' end, 'r' || i, jsonb_build_object('id', 'e' || i)
           from generate_series(1, 400) i`, [NOW]);
  // Suppressions: a glob on a state rule, any rule's one key, a detection's keys, and an expired one (applies to nothing).
  await q(`insert into suppressions (rule_id, resource_pattern, reason, created_by, created_at, expires_at) values
           ('token-no-expiry', 'token:t1*', 'legacy deploy tokens', 'ops@example.com', $1, null),
           ('*', 'token:t8', 'break-glass token', null, $1, $1::timestamptz + interval '30 days'),
           ('custom.failed-logins', 'login:e1*', 'pen test', 'sec@example.com', $1, null),
           ('custom.tokens', 'token:t5', 'expired already', 'x', $1, $1::timestamptz - interval '1 day')`, [NOW]);
  await q('analyze');
}

/**
 * Findings that exist before each compared run: token-no-ip-restriction in every prior state (open
 * and unchanged, open with stale facts, open suppressed, resolved and returned again, open and no
 * longer returned), token-unused with only a resolved finding (no open one, yet not a first
 * write: the hit reopens it), and another rule's row holding custom.collide's second fingerprint.
 */
let prior: Array<Record<string, unknown>> = [];

async function capturePrior(): Promise<void> {
  await reset(false);
  await runChecks(ctx, { rules: BUILTIN_RULES });
  const open = await q(`select * from findings where rule_id = 'token-no-ip-restriction' order by id`);
  expect(open.length).toBeGreaterThanOrEqual(4);
  const [unchanged, stale, suppressed, reopened] = open;
  const gone = { ...unchanged, resource_key: 'token:gone', fingerprint: fingerprint('token-no-ip-restriction', 'token:gone') };
  const unused = (await q(`select * from findings where rule_id = 'token-unused' order by id limit 1`))[0];
  expect(unused).toBeDefined();
  const resolved = (f: Record<string, unknown>) => ({ ...f, status: 'resolved', resolved_at: NOW, resolution_reason: REASON, reopened_count: 2 });
  prior = [
    unchanged!, { ...stale, facts: { stale: true }, input_hash: null }, { ...suppressed, suppressed: true, suppression_id: null }, resolved(reopened!), gone, resolved(unused),
    { ...unused, rule_id: 'elsewhere', resource_key: 'thing:2', fingerprint: fingerprint('custom.collide', 'thing:2') },
  ].map(({ id: _, ...f }) => f);
}
const REASON = 'no longer detected';

async function reset(pin: boolean): Promise<void> {
  await q(`truncate findings, finding_events, check_runs, alerts, alert_deliveries, rule_states restart identity cascade`);
  for (const f of prior) {
    const cols = Object.keys(f);
    await q(`insert into findings (${cols.join(', ')}) values (${cols.map((_, i) => `$${i + 1}`).join(', ')})`, cols.map((c) => f[c]));
  }
  if (prior.length) {
    // The prior rules have been checked before: their transitions are alerted one by one.
    await q(`insert into rule_states (rule_id, kind, status, first_checked_at, last_checked_at, status_changed_at)
             select distinct rule_id, kind, 'active', $1::timestamptz - interval '1 day', $1::timestamptz - interval '1 day', $1::timestamptz - interval '1 day'
             from findings where rule_id <> 'elsewhere'`, [NOW]);
  }
  if (!pin) return;
  // One resolved finding of a key no rule returns: the rule has findings, so it takes the general merge.
  await q(`insert into findings (fingerprint, rule_id, kind, resource_key, resource_type, severity, status, title, facts, first_seen_at, last_seen_at, updated_at, resolved_at)
           select 'pin-' || r, r, 'state', 'pin:none', 'pin', 'low', 'resolved', 'pin', '{}', $2, $2, $2, $2
           from unnest($1::text[]) r where not exists (select 1 from findings f where f.rule_id = r)`, [rules.map((r) => r.id), NOW]);
}

/** A run's results with generated ids replaced by what they point at (fingerprints, positions), the pins left out. */
async function snapshot(result: CheckResult) {
  const findings = await q(`select * from findings where resource_key <> 'pin:none' order by id`);
  const events = await q(`select f.fingerprint, e.* from finding_events e join findings f on f.id = e.finding_id order by e.id`);
  const alerts = await q(`select a.*, f.fingerprint as finding from alerts a left join findings f on f.id = a.finding_id order by a.seq`);
  const deliveries = await q(`select a.seq, d.* from alert_deliveries d join alerts a on a.id = d.alert_id order by a.seq, d.sink`);
  const strip = <T extends Record<string, unknown>>(r: T, ...keys: string[]) => Object.fromEntries(Object.entries(r).filter(([k]) => !keys.includes(k)));
  return {
    findings: findings.map((r) => strip(r, 'id')),
    events: events.map((r) => strip(r, 'id', 'finding_id')),
    alerts: alerts.map((r, i) => ({ ...strip(r, 'id', 'seq', 'finding_id', 'event'), event: { ...r.event, alertId: i, findingId: r.finding } })),
    deliveries: deliveries.map((r) => strip(r, 'id', 'alert_id', 'created_at')), // created_at: the database's clock
    ruleStates: await q(`select * from rule_states order by rule_id`),
    transitions: result.transitions.map(({ findingId: _, ...t }) => t),
    outcomes: result.outcomes.map(({ durationMs: _, ...o }) => o),
    open: [...result.open].sort(),
  };
}

/**
 * The outbox writer, failing after it wrote for one rule (that rule's findings must roll back with
 * it), and noting which merge each rule took: the general one leaves its plan table in the transaction.
 */
const hook = (c: CheckTestContext, merges: Map<string, string>) => {
  const write = outboxWriter(c, rules);
  return async (...args: Parameters<typeof write>) => {
    const [tx, , meta] = args;
    const planned = await tx.execute<{ planned: boolean }>(sql`select to_regclass('pg_temp.finding_plan') is not null as planned`);
    merges.set(meta.ruleId, planned.rows[0]!.planned ? 'general' : 'direct');
    await write(...args);
    if (meta.ruleId === 'node.late-failure') throw new Error('outbox broke after the write');
  };
};

async function checkRun(pin: boolean) {
  await reset(pin);
  const merges = new Map<string, string>();
  const result = await runChecks(ctx, { rules, onTransitions: hook(ctx, merges) });
  return { result, merges, snap: await snapshot(result) };
}

beforeAll(async () => {
  db = await createTestDatabase();
  const dir = mkdtempSync(join(tmpdir(), 'flarewatch-direct-'));
  for (const [name, text] of Object.entries(SQL_RULES)) writeFileSync(join(dir, name), text);
  ctx = checkContext(db, { env: { FLAREWATCH_RULES_DIR: dir, FLAREWATCH_ALERTS_BASELINE: 'false' }, now: NOW });
  const custom = loadCustomRules(dir);
  expect(custom.problems).toEqual([]);
  rules = [
    ...BUILTIN_RULES, ...custom.rules,
    nodeRule('node.state', 'state'), nodeRule('node.detection', 'detection'), nodeRule('node.broken', 'state', 'evaluate'), nodeRule('node.late-failure', 'state'),
  ];
  await seedWorld();
  await capturePrior();
});
afterAll(async () => db?.drop());

describe('a rule with no findings: the direct write against the general merge', () => {
  it('writes the same findings, events, alerts and deliveries, column for column', async () => {
    const direct = await checkRun(false);
    const general = await checkRun(true);
    // The world exercises what the merge decides: suppressed state findings, detections opened and closed at once, every severity path.
    const f = direct.snap.findings;
    expect(f.filter((r) => r.suppressed && r.status === 'open' && r.rule_id === 'token-no-expiry').length).toBeGreaterThan(0);
    expect(f.filter((r) => r.rule_id === 'custom.failed-logins' && r.status === 'resolved' && r.resolved_by === 'sec@example.com').length).toBeGreaterThan(0);
    expect(f.filter((r) => r.rule_id === 'custom.failed-logins' && r.status === 'open').length).toBeGreaterThan(0);
    expect(f.filter((r) => r.rule_id === 'node.detection' && r.last_event_at !== null).length).toBe(1);
    expect(f.filter((r) => r.input_hash !== null).length).toBeGreaterThan(0);
    expect(direct.snap.alerts.length).toBeGreaterThan(0);
    expect(direct.snap.deliveries.length).toBeGreaterThan(0);
    expect([...new Set(direct.snap.events.map((e) => e.transition))]).toEqual(expect.arrayContaining(['opened', 'resolved', 'reopened', 'refreshed', 'unsuppressed']));
    // Each run took the merge it was meant to: the direct write for every rule without findings, the general merge for the rest.
    const withPrior = new Set(prior.map((p) => p.rule_id));
    const direct_ = [...direct.merges].filter(([, m]) => m === 'direct').map(([id]) => id);
    expect(direct_.sort()).toEqual([...direct.merges.keys()].filter((id) => !withPrior.has(id)).sort());
    expect(direct_.length).toBeGreaterThan(10);
    expect([...general.merges.values()].every((m) => m === 'general')).toBe(true);
    expect(general.snap).toEqual(direct.snap);
  });

  it('keeps the first row of a key returned twice, in the rule\'s order', async () => {
    const { snap } = await checkRun(false);
    const node = snap.findings.filter((r) => r.rule_id === 'node.state').map((r) => [r.resource_key, r.resource_name, r.facts]);
    expect(node).toEqual([['acct:acc2', 'Account 2', { n: 2 }], ['acct:acc1', 'Account 1', { n: 1, list: [1, 'a'] }], ['acct:acc3', null, {}]]);
    const custom = snap.findings.filter((r) => r.rule_id === 'custom.tokens' && r.resource_key === 'token:t1');
    expect(custom.map((r) => r.resource_name)).toEqual(['duplicate']);
  });

  it('a rule failing before, inside or after its write leaves none of its findings, events or alerts', async () => {
    const { result, snap } = await checkRun(false);
    const status = Object.fromEntries(result.outcomes.map((o) => [o.ruleId, [o.status, o.reason]]));
    expect(status['node.broken']).toEqual(['failed', 'node.broken broke']);
    expect(status['custom.collide']![0]).toBe('failed');
    expect(status['custom.collide']![1]).toMatch(/duplicate key value violates unique constraint "findings_fingerprint_unique"/);
    expect(status['node.late-failure']).toEqual(['failed', 'outbox broke after the write']);
    for (const id of ['node.broken', 'custom.collide', 'node.late-failure']) {
      expect(snap.findings.filter((r) => r.rule_id === id), id).toEqual([]);
      expect(snap.alerts.filter((a) => a.event.ruleId === id), id).toEqual([]);
      expect(snap.ruleStates.filter((r) => r.rule_id === id), id).toEqual([]);
    }
    // The colliding row of the other rule is untouched; the rules after the failures were written.
    expect(snap.findings.filter((r) => r.rule_id === 'elsewhere').length).toBe(1);
    expect(snap.findings.filter((r) => r.rule_id === 'node.detection').length).toBe(3);
  });
});
