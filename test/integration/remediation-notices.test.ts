import { createHmac, timingSafeEqual } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAlerts } from '../../src/alerts/deliver.js';
import { alertsConfigSchema } from '../../src/config/alerts.js';
import { fixHygieneCommand } from '../../src/commands/fix.js';
import { runChecks } from '../../src/commands/run.js';
import { applyPlan } from '../../src/remediation/apply.js';
import { approvePlan } from '../../src/remediation/approve.js';
import { remediationConfigSchema } from '../../src/config/remediation.js';
import { createPlan } from '../../src/remediation/plan.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { type HttpReceiver, type SmtpReceiver, startHttpReceiver, startSmtpReceiver } from '../helpers/receivers.js';

// Remediation steps as alerts of their own kinds, through real receivers on loopback: the token's
// owner is told of a hygiene notice by e-mail (once, however often hygiene runs), the webhook names
// each step by its own event (signed), PagerDuty is paged for a failed action only and the incident
// resolves when the action is applied.

const DAY = 86_400_000;
const T0 = Date.parse('2026-07-01T09:00:00Z');
const clock = { t: T0 };
const SMTP = { user: 'flarewatch', password: 'smtp-Owner-Notices-5ecret' };
const HOOK_SECRET = 'remediation-hook-secret-0123456789';
let db: TestDatabase;
let sim: Simulator;
let ctx: TestContext;
let smtp: SmtpReceiver;
let hook: HttpReceiver;
let pd: HttpReceiver;
let account: string;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

async function syncAndCheck() {
  for (const o of await syncAll(ctx, { streams: [] })) expect(o.status, o.stream).not.toBe('failed');
  await runChecks(ctx);
}
const unused = (name: string, creator: string) =>
  sim.world.addAccountToken(account, { name, last_used_on: iso(T0 - 200 * DAY), issued_on: '2025-01-01T00:00:00Z', creator_email_at_creation: creator });

/** Signature check as docs/webhooks.md tells a receiver to do it. */
function signed(headers: Record<string, string | string[] | undefined>, raw: string): boolean {
  const given = Buffer.from(String(headers['x-flarewatch-signature'] ?? ''));
  const expected = Buffer.from(`v1=${createHmac('sha256', HOOK_SECRET).update(`${String(headers['x-flarewatch-timestamp'])}.${raw}`).digest('hex')}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
/** The webhook's remediation events (finding alerts of the same checks go there too). */
const hookEvents = () => hook.requests.map((r) => ({ header: String(r.headers['x-flarewatch-event']), signed: signed(r.headers, r.rawBody), body: JSON.parse(r.rawBody) }))
  .filter((e) => e.header.startsWith('remediation.'));
const paged = () => pd.requests.map((r) => JSON.parse(r.rawBody) as { event_action: string; dedup_key: string; payload?: { severity: string } })
  .filter((p) => p.dedup_key.startsWith('remediation.'));
const toOwner = (address: string) => smtp.messages.filter((m) => m.envelope.to.includes(address));

beforeAll(async () => {
  db = await createTestDatabase();
  smtp = await startSmtpReceiver(SMTP);
  hook = await startHttpReceiver();
  pd = await startHttpReceiver();
  sim = await startSimulator({ seed: 2222, rateLimit: false, now: () => clock.t,
    size: { accounts: 1, userTokens: 1, accountTokensPerAccount: 1, membersPerAccount: 2, userInvites: 0, userAuditEntries: 3, accountAuditEntries: 3, accountAuditV1Entries: 3, auditDays: 1 } });
  account = sim.world.accounts[0]!.id;
  ctx = testContext(db, sim, { LOG_LEVEL: 'info' }, [{ name: 'writer', apiToken: sim.credentials.apiToken, write: true }]);
  ctx.now = () => new Date(clock.t);
  ctx.config.alerts = alertsConfigSchema.parse({
    logSink: false,
    sinks: {
      mail: { kind: 'email', host: smtp.host, port: smtp.port, starttls: 'disabled', user: SMTP.user, password: SMTP.password, from: 'flarewatch <fw@example.org>', to: ['secops@example.org'] },
      hook: { kind: 'webhook', url: `${hook.url}/hooks`, secret: HOOK_SECRET },
      pd: { kind: 'pagerduty', routingKey: 'pd-routing-key-remediation', baseUrl: pd.url },
    },
  });
  ctx.config.remediation = remediationConfigSchema.parse({ enabled: true, policies: [{ rule: 'token-unused', action: 'disable', after: '0d', notice: '14d', auto: false }] });
});
afterAll(async () => {
  await sim?.close();
  await smtp?.close();
  await hook?.close();
  await pd?.close();
  await db?.drop();
});

describe('hygiene notice to the owner', () => {
  it('e-mails the owner once, names the step in the webhook, and never pages for a notice', async () => {
    const stale = unused('stale ci token', 'owner@example.com');
    const hostile = unused('hostile creator', 'victim@example.com\r\nBcc: everyone@example.net');
    await syncAndCheck();
    await fixHygieneCommand(ctx, false);

    const mail = toOwner('owner@example.com');
    expect(mail).toHaveLength(1);
    expect(mail[0]!.envelope.to).toEqual(['owner@example.com']);
    expect(mail[0]!.parsed.subject).toBe('[flarewatch] Notice of a hygiene action: stale ci token will be disabled on 2026-07-15 unless it is used or excepted');
    expect(mail[0]!.parsed.text).toContain('stale ci token will be disabled on 2026-07-15 unless it is used or excepted');
    // An address that is not one plain address is never a recipient (its notice still reaches the sinks).
    expect(smtp.messages.flatMap((m) => m.envelope.to).filter((to) => /victim|everyone/.test(to))).toEqual([]);
    expect(smtp.messages.filter((m) => m.envelope.to.includes('secops@example.org') && /stale ci token|hostile creator/.test(m.parsed.subject ?? ''))).toHaveLength(2);
    for (const m of smtp.messages) expect(m.raw).not.toContain(SMTP.password);

    const notices = hookEvents().filter((e) => e.body.type === 'remediation.notice');
    expect(notices.map((e) => e.body.remediation.resource.key)).toEqual(expect.arrayContaining([`token:${stale.id}`, `token:${hostile.id}`]));
    for (const e of notices) {
      expect(e.header).toBe('remediation.notice');
      expect(e.signed).toBe(true);
      expect(e.body).not.toHaveProperty('finding');
      expect(e.body.remediation.rule_id).toBe('remediation.notice');
    }
    expect(paged()).toEqual([]);

    // Hygiene runs again (and again): the notice is recorded once and the owner told once.
    clock.t += DAY;
    await syncAndCheck();
    await fixHygieneCommand(ctx, false);
    await runAlerts(ctx);
    expect(toOwner('owner@example.com')).toHaveLength(1);
    const { rows } = await db.pool.query('select object_key, owner_email from remediation_notices order by id');
    expect(rows.filter((r) => r.object_key === `token:${stale.id}`)).toEqual([{ object_key: `token:${stale.id}`, owner_email: 'owner@example.com' }]);
    const { rows: deliveries } = await db.pool.query("select d.status from alert_deliveries d where d.sink = '@owner'");
    expect(deliveries).toEqual([{ status: 'sent' }]);
  });

  it('tells the owner when the notice is cancelled; with notifyOwners off the owner hears nothing', async () => {
    const used = unused('used after notice', 'user-after@example.com');
    const quiet = unused('quiet owner', 'quiet@example.com');
    await syncAndCheck();
    ctx.config.remediation = { ...ctx.config.remediation, notifyOwners: false };
    await fixHygieneCommand(ctx, false);
    expect(toOwner('quiet@example.com')).toHaveLength(0);
    ctx.config.remediation = { ...ctx.config.remediation, notifyOwners: true };
    await fixHygieneCommand(ctx, false);
    expect(toOwner('user-after@example.com')).toHaveLength(0);

    clock.t += DAY;
    sim.world.updateToken(used.id, { last_used_on: iso(clock.t - 3_600_000) });
    await syncAndCheck();
    await fixHygieneCommand(ctx, false);
    const told = toOwner('user-after@example.com');
    expect(told).toHaveLength(1);
    expect(told[0]!.parsed.subject).toBe(`[flarewatch] Hygiene action cancelled: token:${used.id} will not be disabled: the token was used on ${new Date(clock.t - 3_600_000).toISOString()}`);
    expect(hookEvents().filter((e) => e.header === 'remediation.cancelled').map((e) => e.body.remediation.resource.key)).toEqual([`token:${used.id}`]);
    expect(toOwner('quiet@example.com')).toHaveLength(0);
  });
});

describe('remediation alert kinds', () => {
  it('pending, failed (paged), applied (resolves the page), skipped: each its own signed webhook event', async () => {
    const t = unused('plan target', 'target@example.com');
    const moved = unused('moved target', 'moved@example.com');
    await syncAndCheck();
    hook.requests.length = 0;
    pd.requests.length = 0;
    const plan = await createPlan(ctx, [t, moved].map((x) => ({ key: `token:${x.id}`, kind: 'token-disable' as const, findingId: null, reason: 'test' })), { by: 'alice@example.com', source: {} });
    await approvePlan(ctx, plan.planId!, 'bob@example.com');
    clock.t += 60_000;
    sim.world.updateToken(moved.id, { name: 'renamed meanwhile' });
    sim.setFaults([{ route: 'PUT /accounts/:account_id/tokens/:token_id', kind: 'error', status: 400, count: 1 }]);
    const first = await applyPlan(ctx, plan.planId!);
    sim.setFaults([]);
    expect(first.map((r) => r.status)).toEqual(['failed', 'skipped-state-moved']);
    await runAlerts(ctx);
    const second = await applyPlan(ctx, plan.planId!);
    expect(second.map((r) => r.status)).toEqual(['applied', 'done']);
    await runAlerts(ctx);

    const events = hookEvents();
    expect(events.map((e) => e.header)).toEqual(['remediation.pending', 'remediation.failed', 'remediation.skipped', 'remediation.applied']);
    for (const e of events) {
      expect(e.signed).toBe(true);
      expect(e.body.type).toBe(e.header);
      expect(e.body.type).not.toMatch(/^finding\./);
    }
    expect(events[1]!.body.remediation).toMatchObject({ severity: 'high', resource: { key: `token:${t.id}` }, facts: { plan: plan.planId, action: 1, reason: 'Cloudflare answered HTTP 400' } });
    expect(events[2]!.body.remediation.facts.reason).toMatch(/^modified_on moved from .* since the plan; nothing sent$/);

    const pages = paged();
    expect(pages.map((p) => p.event_action)).toEqual(['trigger', 'resolve']);
    expect(pages[0]!.payload!.severity).toBe('error');
    expect(pages[1]!.dedup_key).toBe(pages[0]!.dedup_key);
    const mails = smtp.messages.filter((m) => m.parsed.subject?.includes(`(plan ${plan.planId}`));
    expect(mails.map((m) => m.parsed.subject!.replace(/: token-disable.*/, ''))).toEqual(
      ['[flarewatch] Remediation failed', '[flarewatch] Remediation skipped: the object changed since the plan', '[flarewatch] Remediation applied']);
  });
});
