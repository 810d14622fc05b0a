import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { doctorCommand } from '../../src/commands/doctor.js';
import { reviewAttestCommand, reviewExportCommand, reviewStartCommand } from '../../src/commands/review.js';
import { fixApplyCommand, fixApproveCommand, fixExceptCommand, fixHistoryCommand, fixPlanCommand, fixShowCommand, fixUndoCommand } from '../../src/commands/fix.js';
import { ApplyInterrupted, applyPlan, undoPlan } from '../../src/remediation/apply.js';
import { approvePlan } from '../../src/remediation/approve.js';
import { createPlan } from '../../src/remediation/plan.js';
import { itemsFromFindings } from '../../src/remediation/select.js';
import { runChecks } from '../../src/rules/engine.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import type { Token } from '../../src/simulator/tokens.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { UsageError } from '../../src/util/usage-error.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

// Plan → a second person's approval → apply, against the simulator's write endpoints and a real
// Postgres: the change lands, the finding resolves at the next check; a token changed after the
// plan is skipped; a crash resumes without sending anything twice; undo restores exactly; with
// remediation off no command sends a single write.

const DAY = 86_400_000;
const T0 = Date.parse('2026-05-04T09:00:00Z');
const clock = { t: T0 };
let db: TestDatabase;
let sim: Simulator;
let ctx: TestContext;
let account: string;

function contextFor(enabled: boolean): TestContext {
  const c = testContext(db, sim, { LOG_LEVEL: 'info', FLAREWATCH_REMEDIATION_ENABLED: String(enabled) }, [{ name: 'writer', apiToken: sim.credentials.apiToken, write: true }]);
  c.now = () => new Date(clock.t);
  return c;
}

async function syncAndCheck(c = ctx) {
  for (const o of await syncAll(c, { streams: [] })) expect(o.status, o.stream).not.toBe('failed');
  await runChecks(c);
}

/** An unused (300 days) account token with an expiry, a not_before and an IP condition: what undo must restore. */
function unusedToken(name: string): Token {
  return sim.world.addAccountToken(account, {
    name, last_used_on: new Date(T0 - 300 * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z'), issued_on: '2025-01-01T00:00:00Z',
    expires_on: '2027-03-01T00:00:00Z', not_before: '2025-01-01T00:00:00Z', condition: { request_ip: { in: ['192.0.2.0/24'], not_in: ['192.0.2.7/32'] } },
  });
}

async function findingOf(tokenId: string, rule = 'token-unused'): Promise<{ id: number; status: string }> {
  const { rows } = await db.pool.query<{ id: string; status: string }>('select id, status from findings where rule_id = $1 and resource_key = $2', [rule, `token:${tokenId}`]);
  return { id: Number(rows[0]!.id), status: rows[0]!.status };
}
const tokenNow = (id: string) => sim.world.accountTokens(account).find((t) => t.id === id);
const planIdOf = (output: string) => Number(/^plan (\d+):/.exec(output)![1]);

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({ seed: 1919, rateLimit: false, now: () => clock.t,
    size: { accounts: 1, userTokens: 2, accountTokensPerAccount: 2, membersPerAccount: 4, userInvites: 1, userAuditEntries: 5, accountAuditEntries: 5, accountAuditV1Entries: 5, auditDays: 1 } });
  account = sim.world.accounts[0]!.id;
  ctx = contextFor(true);
});
afterAll(async () => {
  await sim.close();
  await db.drop();
});
beforeEach(() => { clock.t += 60_000; });

describe('plan, approve, apply', () => {
  it('a second person approves; the simulator holds the change; the finding resolves at the next check', async () => {
    const t = unusedToken('stale deploy key');
    await syncAndCheck();
    const finding = await findingOf(t.id);
    expect(finding.status).toBe('open');
    sim.stats.reset();
    const plan = await fixPlanCommand(ctx, { by: 'alice@example.com', finding: [finding.id] });
    expect(plan.output).toMatch(/credential "writer"/);
    expect(plan.output).toContain(`PUT /accounts/${account}/tokens/${t.id}`);
    const planId = planIdOf(plan.output);
    const shown = await fixShowCommand(ctx, planId, false);
    expect(shown.output).toMatch(/NOT approved yet/);
    expect(shown.output).toContain('"status":"disabled"');
    expect(sim.stats.writeTotal).toBe(0);

    await expect(fixApplyCommand(ctx, planId, false)).rejects.toThrow(/needs 1 approver\(s\) other than its planner/);
    await expect(fixApproveCommand(ctx, planId, 'ALICE@example.com', {})).rejects.toThrow(/cannot approve their own plan/);
    await expect(db.pool.query("insert into remediation_approvals (plan_id, approved_by, approved_at) values ($1, 'alice@example.com', now())", [planId])).rejects.toThrow(/cannot approve their own plan/);
    expect(sim.stats.writeTotal).toBe(0);
    await fixApproveCommand(ctx, planId, 'bob@example.com', {});
    const applied = await fixApplyCommand(ctx, planId, false);
    expect(applied.output).toMatch(/token-disable .* applied/);
    expect(sim.stats.writes).toEqual({ [`PUT /client/v4/accounts/${account}/tokens/${t.id}`]: 1 });
    const after = tokenNow(t.id)!;
    expect(after.status).toBe('disabled');
    expect(after.policies).toEqual(t.policies);
    expect(after.condition).toEqual(t.condition);

    clock.t += 60_000;
    await syncAndCheck();
    expect((await findingOf(t.id)).status).toBe('resolved');
    const again = await fixApplyCommand(ctx, planId, false);
    expect(again.output).toMatch(/already applied/);
    expect(sim.stats.writeTotal).toBe(1);
    const { rows } = await db.pool.query("select kind, event->>'ruleId' as rule, event->>'kind' as event_kind from alerts where event->>'ruleId' like 'remediation.%' order by seq");
    expect(rows.map((r) => [r.kind, r.rule, r.event_kind])).toEqual([
      ['remediation.pending', 'remediation.pending', 'remediation.pending'], ['remediation.applied', 'remediation.applied', 'remediation.applied']]);
    await expect(db.pool.query('delete from remediation_outcomes')).rejects.toThrow(/append-only/);
    await expect(db.pool.query('update remediation_actions set body = null')).rejects.toThrow(/append-only/);
  });

  it('a token changed between plan and apply is skipped with its reason, and nothing is written to it', async () => {
    const t = unusedToken('changed meanwhile');
    await syncAndCheck();
    const r = await createPlan(ctx, await itemsFromFindings(ctx, { finding: [(await findingOf(t.id)).id] }), { by: 'alice@example.com', source: {} });
    await approvePlan(ctx, r.planId!, 'bob@example.com');
    clock.t += 60_000;
    sim.world.updateToken(t.id, { name: 'renamed in the dashboard' });
    sim.stats.reset();
    const [result] = await applyPlan(ctx, r.planId!);
    expect(result!.status).toBe('skipped-state-moved');
    expect(result!.reason).toMatch(/modified_on moved from .* to .*; nothing sent/);
    expect(sim.stats.writeTotal).toBe(0);
    expect(tokenNow(t.id)!.status).toBe('active');
  });
});

describe('crash safety', () => {
  async function threeTokenPlan(names: string[]) {
    const tokens = names.map(unusedToken);
    await syncAndCheck();
    const ids = await Promise.all(tokens.map(async (t) => (await findingOf(t.id)).id));
    const r = await createPlan(ctx, await itemsFromFindings(ctx, { finding: ids }), { by: 'alice@example.com', source: {} });
    expect(r.actions).toHaveLength(3);
    await approvePlan(ctx, r.planId!, 'bob@example.com');
    return { tokens, planId: r.planId! };
  }
  const paths = (tokens: Token[]) => Object.fromEntries(tokens.map((t) => [`PUT /client/v4/accounts/${account}/tokens/${t.id}`, 1]));

  it('a crash after the first of three outcomes commits: the resume sends each write exactly once', async () => {
    const { tokens, planId } = await threeTokenPlan(['crash a', 'crash b', 'crash c']);
    sim.stats.reset();
    await expect(applyPlan(ctx, planId, { afterOutcome: () => { throw new ApplyInterrupted('killed'); } })).rejects.toThrow('killed');
    expect(sim.stats.writeTotal).toBe(1);
    const results = await applyPlan(ctx, planId);
    expect(results.map((r) => r.status)).toEqual(['done', 'applied', 'applied']);
    expect(sim.stats.writes).toEqual(paths(tokens));
    for (const t of tokens) expect(tokenNow(t.id)!.status).toBe('disabled');
  });

  it('a crash after a send but before its outcome is recorded: the resume reads the state and does not send it again', async () => {
    const { tokens, planId } = await threeTokenPlan(['cut d', 'cut e', 'cut f']);
    sim.stats.reset();
    await expect(applyPlan(ctx, planId, { afterSend: () => { throw new ApplyInterrupted('killed mid-send'); } })).rejects.toThrow('killed mid-send');
    const { rows } = await db.pool.query('select count(*)::int as n from remediation_outcomes o join remediation_actions a on a.id = o.action_id where a.plan_id = $1', [planId]);
    expect(rows[0].n).toBe(0);
    const results = await applyPlan(ctx, planId);
    expect(results.map((r) => r.status)).toEqual(['applied', 'applied', 'applied']);
    expect(results[0]!.reason).toMatch(/read again on resume, the change is in place \(not sent again\)/);
    expect(sim.stats.writes).toEqual(paths(tokens));
  });

  it('one failed action does not stop the others', async () => {
    const { tokens, planId } = await threeTokenPlan(['fail g', 'fail h', 'fail i']);
    sim.setFaults([{ route: 'PUT /accounts/:account_id/tokens/:token_id', kind: '5xx', status: 503, count: 1 }]);
    const results = await applyPlan(ctx, planId);
    sim.setFaults([]);
    expect(results.map((r) => r.status)).toEqual(['failed', 'applied', 'applied']);
    const failedId = results[0]!.objectKey.slice('token:'.length);
    expect(tokens.map((t) => t.id)).toContain(failedId);
    expect(tokenNow(failedId)!.status).toBe('active');
    const retry = await applyPlan(ctx, planId);
    expect(retry.map((r) => r.status)).toEqual(['applied', 'done', 'done']);
  });
});

describe('from a review, into its evidence pack', () => {
  it("a review's revoke becomes a plan; the pack holds the plan, approvals, outcome and the audit entry the write caused", async () => {
    const t = unusedToken('revoked in review');
    await syncAndCheck();
    const review = Number(/^review (\d+) /.exec((await reviewStartCommand(ctx, { name: 'Q3', by: 'carol@example.com' })).output)![1]);
    await reviewAttestCommand(ctx, review, [`token:${t.id}`], { decision: 'revoke', by: 'carol@example.com', note: 'nobody owns it' });
    const plan = await fixPlanCommand(ctx, { by: 'carol@example.com', review: review });
    const planId = planIdOf(plan.output);
    await fixApproveCommand(ctx, planId, 'dave@example.com', {});
    await fixApplyCommand(ctx, planId, false);
    expect(tokenNow(t.id)!.status).toBe('disabled');
    clock.t += 5 * 60_000;
    await syncAndCheck();
    const { rows: links } = await db.pool.query('select l.source, l.actor_token_id from remediation_audit_links l join remediation_actions a on a.id = l.action_id where a.plan_id = $1', [planId]);
    expect(links.map((l) => l.source).sort()).toEqual(['account_v1', 'account_v2']);
    expect(links.find((l) => l.source === 'account_v2')!.actor_token_id).toBe(sim.world.credentialTokenId);
    const pack = JSON.parse((await reviewExportCommand(ctx, review, 'json')).output);
    const [rec] = pack.remediation;
    expect(rec).toMatchObject({ plan: planId, planned_by: 'carol@example.com', credential: 'writer', approvals: [{ by: 'dave@example.com', via: 'person' }] });
    expect(rec.actions[0]).toMatchObject({ kind: 'token-disable', object_key: `token:${t.id}`, reversible: true, request: { method: 'PUT' } });
    expect(rec.actions[0].outcomes[0]).toMatchObject({ phase: 'apply', status: 'applied', verified: true, after_state: { status: 'disabled' } });
    expect(rec.actions[0].audit_entries.map((e: { source: string }) => e.source).sort()).toEqual(['account_v1', 'account_v2']);

    // The md, html and csv exports carry the same record: plan, approvals, request, before and after, outcome, audit entries.
    const formats = ['md', 'html', 'csv'] as const;
    const exported = Object.fromEntries(await Promise.all(formats.map(async (f) => [f, (await reviewExportCommand(ctx, review, f)).output] as const)));
    const audit = rec.actions[0].audit_entries.map((x: { source: string; id: string; event_time: string }) => `${x.source} ${x.id} at ${x.event_time}`).join('; ');
    const outcome = `apply applied at ${rec.actions[0].outcomes[0].at} (verified)`;
    const approval = `dave@example.com (person) at ${rec.approvals[0].at}`;
    const before = 'status=active, expires_on=2027-03-01T00:00:00Z, not_before=2025-01-01T00:00:00Z';
    const after = 'status=disabled, expires_on=2027-03-01T00:00:00Z, not_before=2025-01-01T00:00:00Z';
    const md = exported.md!.split('\n');
    expect(md.slice(md.indexOf('## Remediation (1 plan)'), md.indexOf('## Remediation (1 plan)') + 5)).toEqual([
      '## Remediation (1 plan)', '',
      '| plan | planned by | approvals | # | action | object | request | before | after | outcome | audit-log entries |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      expect.stringMatching(new RegExp(`^\\| ${planId} \\| carol@example\\.com at ${rec.planned_at} \\(credential writer\\) \\| `)),
    ]);
    const mdRow = md[md.indexOf('## Remediation (1 plan)') + 4]!.replace(/\\_/g, '_');
    for (const part of [approval, `| 1 | token-disable | token:${t.id} | PUT /accounts/${account}/tokens/${t.id} |`, before, after, outcome, audit]) expect(mdRow).toContain(part);
    const html = /<table id="remediation">[\s\S]*?<\/table>/.exec(exported.html!)![0];
    // What a reader sees: the markup that only decides where lines may break (<wbr>, spans) left out.
    const htmlText = html.replace(/<\/t[dh]>/g, ' | ').replace(/<[^>]+>/g, '').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
    for (const part of [approval, `PUT /accounts/${account}/tokens/${t.id}`, before, after, outcome]) expect(htmlText).toContain(part);
    const csv = exported.csv!.split('\r\n');
    expect(csv[0]!.split(',').slice(-6)).toEqual(['remediation_plans', 'remediation_approvals', 'remediation_actions', 'remediation_before', 'remediation_after', 'remediation_outcomes']);
    const csvRow = csv.find((l) => l.includes(`token:${t.id},`))!;
    for (const part of [`plan ${planId} by carol@example.com at ${rec.planned_at}`, approval, `token-disable PUT /accounts/${account}/tokens/${t.id}`, before, after, outcome]) expect(csvRow).toContain(part);
    // Exported again later, every format is the same to the byte.
    clock.t += 60_000;
    for (const f of formats) expect((await reviewExportCommand(ctx, review, f)).output).toBe(exported[f]);
  });
});

describe('irreversible actions', () => {
  it('a pending invitation and a group member are removed once approved as irreversible; undo leaves them be', async () => {
    const pending = sim.world.addMember(account, { status: 'pending' });
    const member = sim.world.members(account).find((m) => m.status === 'accepted' && m.email !== sim.credentials.email)!;
    const group = sim.world.access.addUserGroup(account, { name: 'contractors' });
    sim.world.access.addGroupMember(account, group.id, member.id);
    await syncAndCheck();
    const plan = await fixPlanCommand(ctx, { by: 'alice@example.com', object: [`member:${account}:${pending.id}`, `group-member:${account}:${group.id}:${member.id}`], action: 'member-remove' });
    expect(plan.output).toMatch(/invitation-remove/);
    expect(plan.output).toMatch(/not planned: .*member-remove does not apply to a group-member/);
    const groupPlan = await fixPlanCommand(ctx, { by: 'alice@example.com', object: [`group-member:${account}:${group.id}:${member.id}`], action: 'group-member-remove' });
    for (const id of [planIdOf(plan.output), planIdOf(groupPlan.output)]) {
      await expect(fixApproveCommand(ctx, id, 'bob@example.com', {})).rejects.toThrow(/irreversible action\(s\).*--accept-irreversible/);
      await fixApproveCommand(ctx, id, 'bob@example.com', { acceptIrreversible: true });
      expect((await fixApplyCommand(ctx, id, false)).exitCode).toBe(0);
    }
    expect(sim.world.members(account).some((m) => m.id === pending.id)).toBe(false);
    expect(sim.world.access.groupRecord(account, group.id)!.members).toEqual([]);
    expect(sim.world.members(account).some((m) => m.id === member.id)).toBe(true);
    const undo = await fixUndoCommand(ctx, planIdOf(plan.output), false);
    expect(undo.output).toMatch(/not-undoable +irreversible/);
  });
});

describe('roll', () => {
  it('only to a configured destination: the new secret lands in a 0600 file, the old one stops working, nothing of it is stored', async () => {
    const cred = sim.issueCredential({ kind: 'account-token', account: 0 });
    if (cred.kind !== 'account-token') throw new Error('account token expected');
    await syncAndCheck();
    const file = join(mkdtempSync(join(tmpdir(), 'fw-roll-')), 'secret');
    ctx.config.remediation.rollDestinations = { [cred.tokenId]: { file } };
    try {
      const plan = await fixPlanCommand(ctx, { by: 'alice@example.com', object: [`token:${cred.tokenId}`], action: 'token-roll' });
      const id = planIdOf(plan.output);
      await fixApproveCommand(ctx, id, 'bob@example.com', { acceptIrreversible: true });
      const applied = await fixApplyCommand(ctx, id, false);
      expect(applied.output).toMatch(/token-roll .* applied/);
      expect(applied.output).not.toContain(cred.value);
      const secret = readFileSync(file, 'utf8').trim();
      expect(secret.length).toBeGreaterThanOrEqual(40);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const verify = (v: string) => fetch(`${sim.url}/accounts/${account}/tokens/verify`, { headers: { authorization: `Bearer ${v}` } }).then((r) => r.status);
      expect(await verify(cred.value)).toBe(401);
      expect(await verify(secret)).toBe(200);
      const dump = (await db.pool.query("select string_agg(t::text, '') as all from (select * from remediation_outcomes union all select null, null, null, null, null, null, request, null, null, null, started_at from remediation_attempts) t")).rows[0].all as string;
      expect(dump).toContain('[new secret delivered to the configured destination]');
      expect(dump).not.toContain(secret);
      expect(ctx.logLines.join('\n')).not.toContain(secret);
    } finally {
      ctx.config.remediation.rollDestinations = {};
    }
  });
});

describe('undo', () => {
  it("restores a disabled token's policies, expiry and condition exactly", async () => {
    const t = unusedToken('undo me');
    await syncAndCheck();
    const r = await createPlan(ctx, await itemsFromFindings(ctx, { finding: [(await findingOf(t.id)).id] }), { by: 'alice@example.com', source: {} });
    await approvePlan(ctx, r.planId!, 'bob@example.com');
    await applyPlan(ctx, r.planId!);
    expect(tokenNow(t.id)!.status).toBe('disabled');
    clock.t += 60_000;
    const undone = await fixUndoCommand(ctx, r.planId!, false);
    expect(undone.output).toMatch(/undone/);
    const back = tokenNow(t.id)!;
    const fields = (x: Token) => ({ name: x.name, status: x.status, policies: x.policies, expires_on: x.expires_on, not_before: x.not_before, condition: x.condition });
    expect(fields(back)).toEqual(fields(t));
    expect((await fixHistoryCommand(ctx, true)).output).toContain('"undone": 1');
  });
});

describe('read-only unless enabled', () => {
  it('with remediation.enabled false, no fix command sends a write', async () => {
    const t = unusedToken('never touched');
    await syncAndCheck();
    const off = contextFor(false);
    sim.stats.reset();
    const plan = await fixPlanCommand(off, { by: 'alice@example.com', finding: [(await findingOf(t.id)).id] });
    expect(plan.output).toMatch(/remediation is disabled/);
    const planId = planIdOf(plan.output);
    await fixShowCommand(off, planId, true);
    await fixApproveCommand(off, planId, 'bob@example.com', {});
    await expect(fixApplyCommand(off, planId, false)).rejects.toThrow(/remediation is disabled \(remediation.enabled: false\)/);
    await expect(fixUndoCommand(off, planId, false)).rejects.toThrow(/remediation is disabled/);
    await fixHistoryCommand(off, false);
    await fixExceptCommand(off, `token:${t.id}`, { reason: 'kept', by: 'carol@example.com' });
    expect(sim.stats.writeTotal).toBe(0);
    expect(tokenNow(t.id)!.status).toBe('active');
  });

  it('doctor says whether writes are on, which credential sends them and what it may change', async () => {
    const off = (await doctorCommand(contextFor(false), {})).output;
    expect(off).toContain('✓ remediation: off (remediation.enabled: false): flarewatch sends no write; write credential "writer"');
    const on = (await doctorCommand(ctx, {})).output;
    // The simulator's default token is read-only: doctor says it can change nothing.
    expect(on).toMatch(/✗ remediation: writes through "writer": its grants include no permission remediation uses/);
  });

  it('a credential not marked write: true never writes; a roll without a destination is refused with the reason', async () => {
    const noWrite = testContext(db, sim, { LOG_LEVEL: 'info', FLAREWATCH_REMEDIATION_ENABLED: 'true' }, [{ name: 'reader', apiToken: sim.credentials.apiToken }]);
    await expect(fixPlanCommand(noWrite, { by: 'alice@example.com', rule: ['token-unused'] })).rejects.toThrow(UsageError);
    const t = unusedToken('roll me');
    await syncAndCheck();
    const r = await fixPlanCommand(ctx, { by: 'alice@example.com', object: [`token:${t.id}`], action: 'token-roll' });
    expect(r.output).toMatch(/not planned: .*no destination for its new secret is configured/);
    expect(r.exitCode).toBe(1);
  });
});

describe('reach of the write credential', () => {
  it('an object the write credential cannot read is refused, with the reason, and nothing is stored or sent', async () => {
    const hidden = unusedToken('hidden from the writer');
    const visible = unusedToken('visible to the writer');
    await syncAndCheck();
    sim.denyRoutes('default', ['GET /accounts/:account_id/tokens/:token_id']);
    sim.stats.reset();
    try {
      const before = await db.pool.query<{ n: number }>('select count(*)::int as n from remediation_actions');
      const out = await fixPlanCommand(ctx, { by: 'alice@example.com', object: [`token:${hidden.id}`], action: 'token-disable', json: true });
      const plan = JSON.parse(out.output) as { refused: Array<{ key: string; reason: string }> };
      expect(plan.refused.find((r) => r.key === `token:${hidden.id}`)!.reason).toBe(
        `token:${hidden.id}: not reachable by the write credential "writer" (Cloudflare answers HTTP 403 to GET /accounts/${account}/tokens/${hidden.id}); no credential flarewatch may write with can change it; nothing planned`);
      expect((await db.pool.query<{ n: number }>('select count(*)::int as n from remediation_actions')).rows[0]!.n).toBe(before.rows[0]!.n);
      expect(sim.stats.writeTotal).toBe(0);
    } finally {
      sim.credentials.deny.length = 0;
    }
    const again = await fixPlanCommand(ctx, { by: 'alice@example.com', object: [`token:${visible.id}`], action: 'token-disable' });
    expect(again.output).toContain(`PUT /accounts/${account}/tokens/${visible.id}`);
  });
});
