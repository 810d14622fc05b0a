// Detections that stay raised: an audit-log detection is alerted once, is never resolved by
// ageing out of the look-back, is not reminded about, and closes when someone acknowledges it
// (its PagerDuty incident resolves, chat gets one quiet line). Newer evidence raises it again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAlerts } from '../../src/alerts/deliver.js';
import { alertsConfigSchema } from '../../src/config/alerts.js';
import { runChecks, runOnce } from '../../src/commands/run.js';
import { ackCommand, findingsCommand } from '../../src/commands/findings.js';
import { roleByName } from '../../src/simulator/catalog.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startHttpReceiver, type HttpReceiver } from '../helpers/receivers.js';

const DAY = 86_400_000;
let sim: Simulator;
let db: TestDatabase;
let ctx: TestContext;
let pd: HttpReceiver, slack: HttpReceiver;
let account: string;
let offset = 0;
const q = async (text: string, params: unknown[] = []) => (await db.pool.query(text, params)).rows;
const later = async <T>(days: number, fn: () => Promise<T>): Promise<T> => {
  offset = days * DAY;
  try {
    return await fn();
  } finally {
    offset = 0;
  }
};
const sync = async () => {
  const r = await runOnce(ctx, { streams: ['accounts', 'roles', 'account-audit'] });
  expect(r.outcomes.filter((o) => o.status === 'failed')).toEqual([]);
};
let n = 0;
/** Mallory adds an administrator, a minute ago. */
const adminAdded = () => {
  const id = `admin-added-${++n}`;
  sim.world.auditStream('account-v2', account).append([{
    id, time: new Date(Date.now() - 60_000).toISOString(),
    action: { type: 'create', result: 'success', description: id },
    actor: { id: 'id-mallory', email: 'mallory@example.com', ip_address: '192.0.2.66', type: 'user', context: 'dash', token_id: null, token_name: null },
    resource: { type: 'account_member', id: `m-${id}`, request: { email: `new${n}@example.com`, roles: [roleByName('Administrator').id] }, response: {} },
  }]);
};
const pdActions = () => pd.requests.map((r) => JSON.parse(r.rawBody) as { event_action: string; dedup_key: string });
const detection = async () => (await q(`select * from findings where rule_id = 'audit-admin-member-added' and resource_key like 'actor:mallory@example.com|%'`))[0];

beforeAll(async () => {
  [db, pd, slack] = await Promise.all([createTestDatabase(), startHttpReceiver(), startHttpReceiver()]);
  sim = await startSimulator({ seed: 91, size: { accounts: 1, userTokens: 1, accountTokensPerAccount: 0, membersPerAccount: 1, userInvites: 0, accountAuditEntries: 1, accountAuditV1Entries: 1, userAuditEntries: 1 }, rateLimit: false });
  account = sim.world.accounts[0]!.id;
  ctx = testContext(db, sim, { FLAREWATCH_AUDIT_LAG: '0s' });
  ctx.now = () => new Date(Date.now() + offset);
  ctx.config.alerts = alertsConfigSchema.parse({
    sinks: { pd: { kind: 'pagerduty', routingKey: 'R0UTINGKEYdetections0123456789ab', baseUrl: pd.url, minSeverity: 'high' }, slack: { kind: 'slack', webhookUrl: `${slack.url}/services/T/B/detections` } },
    logSink: false,
  });
  await sync(); // the first run: a baseline
});
afterAll(async () => {
  await Promise.all([pd?.close(), slack?.close()]);
  await sim?.close();
  await db?.drop();
});

describe('an audit-log detection', () => {
  it('is raised once: one trigger, one chat message naming how to acknowledge it', async () => {
    const slackBefore = slack.requests.length;
    adminAdded();
    await sync();
    const d = await detection();
    expect(d).toMatchObject({ kind: 'detection', status: 'open', severity: 'high' });
    expect(pdActions()).toEqual([expect.objectContaining({ event_action: 'trigger', dedup_key: d.fingerprint })]);
    const chat = slack.requests.slice(slackBefore).map((r) => r.rawBody);
    expect(chat).toHaveLength(1);
    expect(chat[0]).toContain(`flarewatch findings ack ${d.id} --by`);
    // A second admin added by the same actor the same day: the same detection, no second alert.
    adminAdded();
    await sync();
    expect(pdActions()).toHaveLength(1);
    expect((await detection()).facts).toMatchObject({ entries: 2, actor_email: 'mallory@example.com' });
  });

  it('stays raised 30 days later, out of the look-back, with no reminder and no "resolved"', async () => {
    const r = await later(30, () => runChecks(ctx));
    expect(r.transitions.filter((t) => t.ruleId === 'audit-admin-member-added')).toEqual([]);
    expect(await detection()).toMatchObject({ status: 'open', resolved_at: null });
    const delivered = await later(30, () => runAlerts(ctx));
    expect(delivered.reminders).toBe(0);
    expect(pdActions()).toHaveLength(1);
    // Listed apart from state findings, and in open_findings with its kind.
    expect(await later(30, () => findingsCommand(ctx, {}, 'table'))).toMatch(/detections: events to review, open until acknowledged[^\n]*\(1\)\nid\s+severity/);
    expect(await q(`select kind from open_findings where rule_id = 'audit-admin-member-added'`)).toEqual([{ kind: 'detection' }]);
  });

  it('closes when acknowledged: the incident resolves, chat gets a quiet line with who and why', async () => {
    const d = await detection();
    const slackBefore = slack.requests.length;
    const ack = await ackCommand(ctx, [d.id], { by: 'alice', note: 'approved onboarding, ticket SEC-7' });
    expect(ack).toEqual({ exitCode: 0, output: `finding ${d.id} acknowledged: audit-admin-member-added ${d.resource_key}; resolution queued for pd, slack` });
    expect(await detection()).toMatchObject({ status: 'resolved', resolution_reason: 'acknowledged', resolved_by: 'alice', resolution_note: 'approved onboarding, ticket SEC-7' });
    await runAlerts(ctx);
    expect(pdActions().map((e) => e.event_action)).toEqual(['trigger', 'resolve']);
    const chat = slack.requests.slice(slackBefore).map((r) => JSON.parse(r.rawBody) as { blocks: Array<{ type: string; elements?: Array<{ text: string }> }> });
    expect(chat).toHaveLength(1);
    expect(chat[0]!.blocks.map((b) => b.type)).toEqual(['context']);
    expect(chat[0]!.blocks[0]!.elements![0]!.text).toMatch(/Acknowledged: Members added with an administrator role.*by alice: approved onboarding, ticket SEC-7/);
    // Twice, or a state finding, or nothing there: a clear refusal, exit 1.
    expect(await ackCommand(ctx, [d.id], { by: 'bob' })).toEqual({ exitCode: 1, output: `finding ${d.id} is already resolved (acknowledged by alice)` });
    expect((await ackCommand(ctx, [999_999], { by: 'bob' })).output).toBe('no finding 999999');
    const [state] = await q(`insert into findings (fingerprint, rule_id, resource_key, resource_type, severity, title, facts)
      values ('state-one', 'token-no-expiry', 'token:t1', 'token', 'medium', 'API token has no expiry', '{}') returning id`);
    expect((await ackCommand(ctx, [state.id], { by: 'bob' })).output).toMatch(/is a state finding: it resolves when the problem is fixed; to accept it as it is, suppress it: npx flarewatch suppress token-no-expiry 'token:t1'/);
    await q(`delete from findings where id = $1`, [state.id]);
    await expect(ackCommand(ctx, [d.id], {})).rejects.toThrow(/--by <who> is required/);
  });

  it('is not raised again by the same events, but newer evidence raises it again', async () => {
    await sync();
    expect(pdActions()).toHaveLength(2);
    expect((await detection()).status).toBe('resolved');
    adminAdded();
    await sync();
    const d = await detection();
    expect(d).toMatchObject({ status: 'open', reopened_count: 1, resolution_reason: null });
    expect(pdActions().map((e) => e.event_action)).toEqual(['trigger', 'resolve', 'trigger']);
  });

  it('the per-entry findings of earlier versions are retired: their incidents resolve, chat hears nothing', async () => {
    const fp = 'legacy-per-entry-fingerprint-0001';
    const [f] = await q(`insert into findings (fingerprint, rule_id, kind, resource_key, resource_type, severity, title, facts)
      values ($1, 'audit-admin-member-added', 'detection', 'audit:account_v2:old-entry', 'audit_entry', 'high', 'Member added with an administrator role', '{}') returning id`, [fp]);
    const [a] = await q(`insert into alerts (finding_id, fingerprint, kind, severity, event) values ($1, $2, 'opened', 'high', $3) returning id`,
      [f.id, fp, JSON.stringify({ alertId: 'x', kind: 'opened', fingerprint: fp, ruleId: 'audit-admin-member-added', title: 't', severity: 'high', resourceType: 'audit_entry', resourceKey: 'audit:account_v2:old-entry', facts: {}, firstSeenAt: '2030-01-01T00:00:00Z', occurredAt: '2030-01-01T00:00:00Z' })]);
    await q(`insert into alert_deliveries (alert_id, sink, status) values ($1, 'pd', 'sent'), ($1, 'slack', 'sent')`, [a.id]);
    const slackBefore = slack.requests.length;
    await runChecks(ctx);
    await runAlerts(ctx);
    expect((await q(`select status, resolution_reason from findings where id = $1`, [f.id]))[0]).toEqual({ status: 'resolved', resolution_reason: 'replaced by grouped detections' });
    expect(pdActions().filter((e) => e.dedup_key === fp).map((e) => e.event_action)).toEqual(['resolve']);
    expect(slack.requests.length).toBe(slackBefore);
  });
});
