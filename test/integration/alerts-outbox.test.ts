// The outbox and its delivery against real receivers on loopback and a real Postgres:
// same-transaction writes, routing, retries/backoff, a crash between send and commit,
// concurrent deliverers, reminders, resolutions, digests, and no secret anywhere.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAlerts } from '../../src/alerts/deliver.js';
import { runDigest } from '../../src/alerts/digest.js';
import { outboxWriter } from '../../src/alerts/outbox.js';
import { alertsConfigSchema } from '../../src/config/alerts.js';
import { runChecks } from '../../src/commands/run.js';
import { createMetrics } from '../../src/ops/metrics.js';
import { checkContext, fakeRule, tokenHit, type CheckTestContext } from '../helpers/checks.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { downUrl, startHttpReceiver, startSmtpReceiver, type HttpReceiver, type RecordedRequest, type SmtpReceiver } from '../helpers/receivers.js';

const SLACK_PATH = '/services/T0SECRET/B0SECRET/slackSecretPathXyz123';
const WEBHOOK_SECRET = 'whsec_outbox_0123456789abcdef';
const ROUTING_KEY = 'R0UT1NGKEYSECRET0123456789outbox';
const SMTP = { user: 'flarewatch', password: 'smtp-pa55word-Outbox!' };
const SECRETS = ['T0SECRET', 'slackSecretPathXyz123', WEBHOOK_SECRET, ROUTING_KEY, SMTP.password];

let db: TestDatabase;
let ctx: CheckTestContext;
let slack: HttpReceiver, hook: HttpReceiver, pd: HttpReceiver, daily: HttpReceiver;
let smtp: SmtpReceiver;
const T0 = new Date('2030-01-01T00:00:00Z');
let clock = T0.getTime();
const advance = (ms: number) => { clock += ms; ctx.setNow(new Date(clock)); };
const MIN = 60_000, HOUR = 60 * MIN, DAY = 24 * HOUR;

const q = async (text: string, params: unknown[] = []) => (await db.pool.query(text, params)).rows;
const json = (r: RecordedRequest) => JSON.parse(r.rawBody) as Record<string, any>;
const { rule, state } = fakeRule('fake.alerts', { severity: 'medium' });
const check = () => runChecks(ctx, { rules: [rule] });
const bySink = async () => Object.fromEntries((await q(`select sink, status, count(*)::int n from alert_deliveries group by 1,2`)).map((r) => [`${r.sink}:${r.status}`, r.n]));

/** The receiver side of docs/webhooks.md, written independently of src/alerts/sinks/webhook.ts. */
function verifyWebhook(r: RecordedRequest, secret: string): boolean {
  const ts = String(r.headers['x-flarewatch-timestamp'] ?? '');
  const sig = Buffer.from(String(r.headers['x-flarewatch-signature'] ?? ''));
  const expected = Buffer.from('v1=' + createHmac('sha256', secret).update(`${ts}.${r.rawBody}`, 'utf8').digest('hex'));
  return /^\d+$/.test(ts) && sig.length === expected.length && timingSafeEqual(sig, expected);
}

beforeAll(async () => {
  db = await createTestDatabase();
  [slack, hook, pd, daily] = await Promise.all([startHttpReceiver(), startHttpReceiver(), startHttpReceiver(), startHttpReceiver()]);
  smtp = await startSmtpReceiver(SMTP);
  ctx = checkContext(db, { now: T0 });
  ctx.config.alerts = alertsConfigSchema.parse({
    sinks: {
      slack: { kind: 'slack', webhookUrl: `${slack.url}${SLACK_PATH}` },
      hook: { kind: 'webhook', url: `${hook.url}/hook`, secret: WEBHOOK_SECRET },
      pd: { kind: 'pagerduty', routingKey: ROUTING_KEY, baseUrl: pd.url, minSeverity: 'high' },
      mail: { kind: 'email', host: smtp.host, port: smtp.port, user: SMTP.user, password: SMTP.password, starttls: 'disabled', from: 'flarewatch@example.com', to: ['sec@example.com'] },
      daily: { kind: 'webhook', url: `${daily.url}/digest`, secret: WEBHOOK_SECRET, mode: 'digest', rules: ['fake.*'] },
    },
    // Per-finding alerts from the first check on (baselines: alerts-episodes.test.ts).
    baseline: false,
    reminderInterval: '7d',
    maxAttempts: 4,
    backoff: { initial: '1m', max: '1h' },
    lease: '5m',
  });
});

afterAll(async () => {
  // No secret in any payload, header (except PagerDuty's own routing_key field), log line or table.
  const bodies = [slack, hook, daily].flatMap((r) => r.requests.map((x) => x.rawBody + JSON.stringify(x.headers)));
  bodies.push(...pd.requests.map((x) => { const { routing_key: _k, ...rest } = json(x); return JSON.stringify(rest) + JSON.stringify(x.headers); }));
  bodies.push(...smtp.messages.map((m) => m.raw));
  bodies.push(...ctx.logLines);
  bodies.push(JSON.stringify(await q(`select * from alerts`)), JSON.stringify(await q(`select * from alert_deliveries`)));
  const all = bodies.join('\n');
  for (const s of SECRETS) expect(all).not.toContain(s);
  expect(pd.requests.every((r) => json(r).routing_key === ROUTING_KEY)).toBe(true);
  await Promise.all([slack, hook, pd, daily, smtp].map((r) => r?.close()));
  await db?.drop();
});

describe('the outbox', () => {
  it('writes alerts in the transaction of the transition: a rolled-back transition leaves no alert', async () => {
    state.hits = [tokenHit('a')];
    const writer = outboxWriter(ctx, [rule]);
    const r = await runChecks(ctx, { rules: [rule], onTransitions: async (tx, t, meta) => { await writer(tx, t, meta); throw new Error('boom after the outbox write'); } });
    expect(r.outcomes[0]!.status).toBe('failed');
    expect(await q(`select * from findings`)).toHaveLength(0);
    expect(await q(`select * from alerts`)).toHaveLength(0);
    expect(await q(`select * from alert_deliveries`)).toHaveLength(0);
  });

  it('queues one opened alert per new finding, routed by severity and rule, with its deliveries before any send', async () => {
    await check();
    const alerts = await q(`select * from alerts`);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'opened', severity: 'medium' });
    expect(alerts[0].event).toMatchObject({ alertId: alerts[0].id, kind: 'opened', ruleId: 'fake.alerts', rationale: 'why fake.alerts matters', remediation: 'fix fake.alerts', dashboardUrl: 'https://dash.cloudflare.com/profile/api-tokens' });
    // medium: not PagerDuty (minSeverity high); the digest sink in digest mode; log on by default.
    expect(await bySink()).toEqual({ 'slack:pending': 1, 'hook:pending': 1, 'mail:pending': 1, 'daily:pending': 1, 'log:pending': 1 });
  });
});

describe('delivery', () => {
  it('sends to Slack, the webhook (HMAC verified independently) and email; digest sinks wait', async () => {
    const res = await runAlerts(ctx);
    expect(res.sinks.find((s) => s.sink === 'slack')).toMatchObject({ sent: 1, failed: 0, pending: 0 });
    const [alert] = await q(`select id from alerts`);
    expect(slack.requests).toHaveLength(1);
    expect(slack.requests[0]!.path).toBe(SLACK_PATH);
    expect(hook.requests).toHaveLength(1);
    expect(verifyWebhook(hook.requests[0]!, WEBHOOK_SECRET)).toBe(true);
    expect(verifyWebhook(hook.requests[0]!, 'wrong-secret-0123456789')).toBe(false);
    expect(hook.requests[0]!.headers['idempotency-key']).toBe(alert.id);
    expect(json(hook.requests[0]!)).toMatchObject({ type: 'finding.opened', alert_id: alert.id });
    expect(smtp.messages).toHaveLength(1);
    expect(smtp.messages[0]!.parsed.messageId).toContain(alert.id);
    expect(pd.requests).toHaveLength(0);
    expect(daily.requests).toHaveLength(0);
    expect(await bySink()).toMatchObject({ 'slack:sent': 1, 'hook:sent': 1, 'mail:sent': 1, 'log:sent': 1, 'daily:pending': 1 });
    // Nothing is sent twice.
    await runAlerts(ctx);
    expect([slack.requests.length, hook.requests.length, smtp.messages.length]).toEqual([1, 1, 1]);
  });

  it('retries after a 500 with backoff; a sink that is down delays only itself', async () => {
    advance(MIN);
    state.hits = [tokenHit('a'), tokenHit('b')];
    await check();
    hook.replyNext(1, { status: 500, body: 'oops' });
    const goodSlack = ctx.config.alerts.sinks.slack!.settings.webhookUrl;
    ctx.config.alerts.sinks.slack!.settings.webhookUrl = await downUrl(SLACK_PATH);
    const r1 = await runAlerts(ctx);
    expect(r1.sinks.find((s) => s.sink === 'hook')).toMatchObject({ sent: 0, failed: 1, pending: 1 });
    expect(r1.sinks.find((s) => s.sink === 'slack')).toMatchObject({ sent: 0, failed: 1, pending: 1 });
    expect(r1.sinks.find((s) => s.sink === 'mail')).toMatchObject({ sent: 1, failed: 0 });
    const [row] = await q(`select * from alert_deliveries where sink = 'hook' and status = 'failed'`);
    expect(row.attempts).toBe(1);
    expect(row.last_error).toContain('HTTP 500');
    // Backoff: not due yet.
    expect(row.next_attempt_at.getTime()).toBeGreaterThan(clock + 29_000);
    await runAlerts(ctx);
    expect(hook.requests).toHaveLength(2);
    ctx.config.alerts.sinks.slack!.settings.webhookUrl = goodSlack;
    advance(2 * MIN);
    const r2 = await runAlerts(ctx);
    expect(r2.sinks.find((s) => s.sink === 'hook')).toMatchObject({ sent: 1, pending: 0 });
    expect(r2.sinks.find((s) => s.sink === 'slack')).toMatchObject({ sent: 1, pending: 0 });
    expect(hook.requests).toHaveLength(3);
    expect(hook.requests[2]!.headers['idempotency-key']).toBe(hook.requests[1]!.headers['idempotency-key']);
    expect(slack.requests).toHaveLength(2);
  });

  it('honours Retry-After and turns a permanent error into dead after recording it', async () => {
    advance(MIN);
    state.hits = [tokenHit('a'), tokenHit('b'), tokenHit('c')];
    await check();
    hook.replyNext(1, { status: 429, headers: { 'retry-after': '600' } });
    slack.replyNext(1, { status: 400, body: 'invalid_payload' });
    await runAlerts(ctx, { sinks: ['hook', 'slack'] });
    const [h] = await q(`select d.* from alert_deliveries d join alerts a on a.id = d.alert_id where d.sink = 'hook' and a.event->>'resourceKey' = 'token:c'`);
    expect(h.status).toBe('failed');
    expect(h.next_attempt_at.getTime()).toBeGreaterThanOrEqual(clock + 600_000);
    const [s] = await q(`select d.* from alert_deliveries d join alerts a on a.id = d.alert_id where d.sink = 'slack' and a.event->>'resourceKey' = 'token:c'`);
    expect(s).toMatchObject({ status: 'dead', attempts: 1 });
    expect(s.last_error).toContain('HTTP 400');
    advance(11 * MIN);
    await runAlerts(ctx);
    expect((await q(`select status from alert_deliveries where sink = 'hook' and status <> 'sent'`))).toHaveLength(0);
  });
});

describe('exactly once per (alert, sink)', () => {
  it('a crash between send and commit resends after the lease with the same idempotency key, and loses nothing', async () => {
    advance(MIN);
    state.hits = [tokenHit('a'), tokenHit('b'), tokenHit('c'), tokenHit('d', {}, 'critical')];
    await check();
    const before = { hook: hook.requests.length, pd: pd.requests.length, mail: smtp.messages.length };
    const crash = new Error('process died after the send, before the commit');
    await expect(runAlerts(ctx, { sinks: ['hook', 'pd', 'mail'], afterSend: () => { throw crash; } })).rejects.toBe(crash);
    expect(hook.requests.length - before.hook).toBe(1);
    expect(pd.requests.length - before.pd).toBe(1);
    expect(smtp.messages.length - before.mail).toBe(1);
    expect(await q(`select sink, status from alert_deliveries where status = 'sending' order by sink`)).toEqual([{ sink: 'hook', status: 'sending' }, { sink: 'mail', status: 'sending' }, { sink: 'pd', status: 'sending' }]);
    // Another deliverer right away: the lease holds, nothing is sent again.
    await runAlerts(ctx, { sinks: ['hook', 'pd', 'mail'] });
    expect(hook.requests.length - before.hook).toBe(1);
    advance(6 * MIN);
    await runAlerts(ctx, { sinks: ['hook', 'pd', 'mail'] });
    const [h1, h2] = hook.requests.slice(before.hook);
    expect(h2!.headers['idempotency-key']).toBe(h1!.headers['idempotency-key']);
    expect(json(h2!).alert_id).toBe(json(h1!).alert_id);
    const [p1, p2] = pd.requests.slice(before.pd);
    expect(json(p2!).dedup_key).toBe(json(p1!).dedup_key);
    expect(json(p1!)).toMatchObject({ event_action: 'trigger', payload: { severity: 'critical' } });
    const [m1, m2] = smtp.messages.slice(before.mail);
    expect(m2!.parsed.messageId).toBe(m1!.parsed.messageId);
    expect(await q(`select * from alert_deliveries where sink in ('hook', 'pd', 'mail') and status not in ('sent', 'dead')`)).toHaveLength(0);
    await runAlerts(ctx);
  });

  it('two concurrent deliverers never send the same row twice', async () => {
    advance(MIN);
    const keys = Array.from({ length: 25 }, (_, i) => `n${i}`);
    state.hits = ['a', 'b', 'c', 'd', ...keys].map((k) => tokenHit(k, {}, k === 'd' ? 'critical' : undefined));
    await check();
    const start = hook.requests.length;
    await Promise.all([runAlerts(ctx), runAlerts(ctx), runAlerts(ctx)]);
    const sent = hook.requests.slice(start).map((r) => r.headers['idempotency-key']);
    expect(sent).toHaveLength(25);
    expect(new Set(sent).size).toBe(25);
  });
});

describe('reminders, resolutions, digest', () => {
  it('reminds once per interval about findings still open', async () => {
    const start = hook.requests.length;
    advance(7 * DAY + HOUR);
    const r = await runAlerts(ctx);
    expect(r.reminders).toBe(29);
    const reminders = hook.requests.slice(start).map(json);
    expect(reminders).toHaveLength(29);
    expect(reminders.every((p) => p.type === 'finding.reminder')).toBe(true);
    expect(pd.requests.slice(-1).map(json)[0]).toMatchObject({ event_action: 'trigger' });
    expect((await runAlerts(ctx)).reminders).toBe(0);
    advance(DAY);
    expect((await runAlerts(ctx)).reminders).toBe(0);
  });

  it('sends a resolution only to the sinks that got the opening, and nothing for suppressed findings', async () => {
    advance(MIN);
    // a: medium, never sent to PagerDuty. d: critical, triggered there.
    state.hits = state.hits.filter((h) => h.resourceKey !== 'token:a' && h.resourceKey !== 'token:d');
    const before = { pd: pd.requests.length, hook: hook.requests.length };
    await check();
    const resolved = await q(`select a.event->>'resourceKey' k, array_agg(d.sink order by d.sink) sinks from alerts a join alert_deliveries d on d.alert_id = a.id where a.kind = 'resolved' group by 1 order by 1`);
    expect(resolved).toEqual([
      { k: 'token:a', sinks: ['daily', 'hook', 'log', 'mail', 'slack'] },
      { k: 'token:d', sinks: ['daily', 'hook', 'log', 'mail', 'pd', 'slack'] },
    ]);
    await runAlerts(ctx);
    expect(pd.requests.slice(before.pd).map(json)).toEqual([{ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: json(pd.requests[before.pd - 1]!).dedup_key }]);
    expect(hook.requests.slice(before.hook).map((r) => json(r).type)).toEqual(['finding.resolved', 'finding.resolved']);
  });

  it('a suppressed finding does not alert', async () => {
    advance(MIN);
    await db.pool.query(`insert into suppressions (rule_id, resource_pattern, reason) values ('fake.alerts', 'token:quiet', 'accepted')`);
    state.hits = [...state.hits, tokenHit('quiet', {}, 'critical')];
    const n = (await q(`select count(*)::int n from alerts`))[0].n;
    await check();
    expect((await q(`select count(*)::int n from alerts`))[0].n).toBe(n);
  });

  it('groups the undelivered digest alerts into one digest per sink, once', async () => {
    const res = await runDigest(ctx);
    expect(res.sinks).toEqual([expect.objectContaining({ sink: 'daily', failed: 0, pending: 0 })]);
    expect(daily.requests).toHaveLength(1);
    expect(verifyWebhook(daily.requests[0]!, WEBHOOK_SECRET)).toBe(true);
    const digest = json(daily.requests[0]!);
    const expected = (await q(`select count(*)::int n from alert_deliveries where sink = 'daily'`))[0].n;
    expect(digest).toMatchObject({ type: 'digest' });
    expect(digest.events).toHaveLength(expected);
    expect(digest.counts.critical).toBeGreaterThan(0);
    await runDigest(ctx);
    expect(daily.requests).toHaveLength(1);
  });
});

describe('metrics', () => {
  it('the alert counters count what a run sent and what failed, by sink', async () => {
    advance(MIN);
    state.hits = [...state.hits, tokenHit('counted')];
    await check();
    const metrics = createMetrics({ db: db.db });
    ctx.metrics = metrics;
    hook.replyNext(1, { status: 503 });
    try {
      const r = await runAlerts(ctx);
      const value = async (name: string, sink: string) => (await metrics.registry.getSingleMetric(name)!.get()).values.find((v) => v.labels.sink === sink)?.value ?? 0;
      for (const s of r.sinks) {
        expect(await value('flarewatch_alerts_sent_total', s.sink), s.sink).toBe(s.sent);
        expect(await value('flarewatch_alerts_failed_total', s.sink), s.sink).toBe(s.failed + s.dead);
      }
      expect(await value('flarewatch_alerts_failed_total', 'hook')).toBe(1);
      expect(await value('flarewatch_alerts_sent_total', 'slack')).toBeGreaterThan(0);
    } finally {
      ctx.metrics = undefined;
      advance(10 * MIN);
      await runAlerts(ctx);
    }
  });
});
