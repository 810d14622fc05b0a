// Episodes that close: an episode starts at the first alert of any kind since the finding was
// last resolved; its reminders and its resolution reach every sink that got any alert of it.
// Real simulator and sync, a real PagerDuty receiver (Events v2 over HTTP) and a Slack one.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAlerts } from '../../src/alerts/deliver.js';
import { alertsConfigSchema } from '../../src/config/alerts.js';
import { runOnce } from '../../src/commands/run.js';
import { addSuppression } from '../../src/commands/suppress.js';
import { fingerprint } from '../../src/findings/fingerprint.js';
import { groupByName } from '../../src/simulator/catalog.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startHttpReceiver, type HttpReceiver } from '../helpers/receivers.js';

const ROUTING_KEY = 'R0UTINGKEYepisodes0123456789abcd';
const DAY = 86_400_000;
const inDays = (d: number) => new Date(Math.floor((Date.now() + d * DAY) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
/** A token no other rule reports at high or above: narrow, IP-restricted, recently used. */
const narrow = (name: string, expiresInDays: number) => ({
  name, status: 'active' as const, expires_on: inDays(expiresInDays), last_used_on: inDays(-1),
  policies: [{ id: `p-${name}`, effect: 'allow' as const, permission_groups: [{ id: groupByName('Zone Read').id, name: 'Zone Read' }], resources: { 'com.cloudflare.api.account.zone.*': '*' } }],
  condition: { request_ip: { in: ['192.0.2.0/24'] } },
});

let sim: Simulator;
let db: TestDatabase;
let ctx: TestContext;
let pd: HttpReceiver, slack: HttpReceiver;
let offset = 0;
const rulesDir = mkdtempSync(join(tmpdir(), 'fw-episode-rules-'));

type PdEvent = { event_action: 'trigger' | 'resolve'; dedup_key: string; payload?: { severity: string } };
const pdEvents = (dedupKey: string) => pd.requests.map((r) => JSON.parse(r.rawBody) as PdEvent).filter((e) => e.dedup_key === dedupKey);
const slackTexts = (from = 0) => slack.requests.slice(from).map((r) => r.rawBody);
const q = async (text: string, params: unknown[] = []) => (await db.pool.query(text, params)).rows;
const run = async () => {
  const r = await runOnce(ctx, { streams: ['user-tokens', 'accounts', 'permission-groups'] });
  expect(r.outcomes.filter((o) => o.status === 'failed')).toEqual([]);
  return r;
};

beforeAll(async () => {
  [db, pd, slack] = await Promise.all([createTestDatabase(), startHttpReceiver(), startHttpReceiver()]);
  sim = await startSimulator({ seed: 77, size: { accounts: 1, userTokens: 1, accountTokensPerAccount: 0, membersPerAccount: 1, userInvites: 0 }, rateLimit: false });
  ctx = testContext(db, sim, { FLAREWATCH_RULES_DIR: rulesDir });
  ctx.now = () => new Date(Date.now() + offset);
  // Only a PagerDuty sink, for high and critical (the case that never resolved).
  ctx.config.alerts = alertsConfigSchema.parse({ sinks: { pd: { kind: 'pagerduty', routingKey: ROUTING_KEY, baseUrl: pd.url, minSeverity: 'high' } }, logSink: false });
  await run(); // the first run: a baseline of the world as it is
});
afterAll(async () => {
  expect(slack.requests.map((r) => r.rawBody).join('\n')).not.toContain(ROUTING_KEY);
  await Promise.all([pd?.close(), slack?.close()]);
  await sim?.close();
  await db?.drop();
  rmSync(rulesDir, { recursive: true, force: true });
});

describe('a finding opened below a sink and raised into it', () => {
  let tokenId: string;
  let dedup: string;

  it('token-expiring low → medium → high: one trigger when it reaches high', async () => {
    tokenId = sim.world.addUserToken(narrow('rotating deploy token', 20)).id;
    dedup = fingerprint('token-expiring', `token:${tokenId}`);
    await run();
    sim.world.updateToken(tokenId, { expires_on: inDays(5) });
    await run();
    expect(pdEvents(dedup)).toEqual([]);
    sim.world.updateToken(tokenId, { expires_on: inDays(0.5) });
    await run();
    expect(pdEvents(dedup)).toEqual([expect.objectContaining({ event_action: 'trigger', payload: expect.objectContaining({ severity: 'error' }) })]);
    expect((await q(`select severity from findings where fingerprint = $1`, [dedup]))[0].severity).toBe('high');
  });

  it('reminders reach the sink that got the raise', async () => {
    offset = 8 * DAY;
    try {
      expect((await runAlerts(ctx)).reminders).toBeGreaterThanOrEqual(1);
    } finally {
      offset = 0;
    }
    expect(pdEvents(dedup).map((e) => e.event_action)).toEqual(['trigger', 'trigger']);
  });

  it('rotating the token resolves the incident', async () => {
    sim.world.removeToken(tokenId);
    sim.world.addUserToken(narrow('rotating deploy token (new)', 90));
    await run();
    expect(pdEvents(dedup).map((e) => e.event_action)).toEqual(['trigger', 'trigger', 'resolve']);
    expect((await q(`select status, resolution_reason from findings where fingerprint = $1`, [dedup]))[0]).toEqual({ status: 'resolved', resolution_reason: 'no longer detected' });
  });
});

describe('suppressing, disabling, removing', () => {
  const withSlack = () => {
    ctx.config.alerts = alertsConfigSchema.parse({
      sinks: { pd: { kind: 'pagerduty', routingKey: ROUTING_KEY, baseUrl: pd.url, minSeverity: 'high' }, slack: { kind: 'slack', webhookUrl: `${slack.url}/services/T/B/episodes` } },
      logSink: false,
    });
  };

  it('a suppression resolves the PagerDuty incident and sends chat one quiet notice', async () => {
    withSlack();
    const id = sim.world.addUserToken(narrow('expiring tomorrow', 0.5)).id;
    const dedup = fingerprint('token-expiring', `token:${id}`);
    await run();
    expect(pdEvents(dedup).map((e) => e.event_action)).toEqual(['trigger']);
    const before = slack.requests.length;
    await addSuppression(ctx, { ruleId: 'token-expiring', resourcePattern: `token:${id}`, reason: 'rotation scheduled for Monday', createdBy: 'carol' });
    await run();
    expect(pdEvents(dedup).map((e) => e.event_action)).toEqual(['trigger', 'resolve']);
    const notices = slackTexts(before);
    expect(notices).toHaveLength(1);
    const notice = JSON.parse(notices[0]!) as { blocks: Array<{ type: string; elements?: Array<{ text: string }> }> };
    expect(notice.blocks.map((b) => b.type)).toEqual(['context']);
    expect(notice.blocks[0]!.elements![0]!.text).toMatch(/Suppressed: API token expires soon.*by carol: rotation scheduled for Monday/);
    // Still visible as accepted; the episode is over, so nothing more is sent while it stays suppressed.
    expect((await q(`select status, suppressed from findings where fingerprint = $1`, [dedup]))[0]).toEqual({ status: 'open', suppressed: true });
    expect((await q(`select reason, acted_by, note from finding_events e join findings f on f.id = e.finding_id where f.fingerprint = $1 and e.transition = 'suppressed'`, [dedup]))[0])
      .toEqual({ reason: 'suppressed', acted_by: 'carol', note: 'rotation scheduled for Monday' });
    offset = 8 * DAY;
    try {
      await runAlerts(ctx);
    } finally {
      offset = 0;
    }
    expect(pdEvents(dedup).map((e) => e.event_action)).toEqual(['trigger', 'resolve']);
  });

  it('a disabled rule resolves its findings with the reason: incidents close, chat hears nothing', async () => {
    const id = sim.world.addUserToken(narrow('expiring soon too', 0.4)).id;
    const dedup = fingerprint('token-expiring', `token:${id}`);
    await run();
    expect(pdEvents(dedup).map((e) => e.event_action)).toEqual(['trigger']);
    const before = slack.requests.length;
    ctx.config.rules = { 'token-expiring': { enabled: false } };
    try {
      const r = await run();
      expect(r.checks!.outcomes.find((o) => o.ruleId === 'token-expiring')).toMatchObject({ status: 'disabled', reason: 'rule disabled' });
    } finally {
      ctx.config.rules = {};
    }
    expect(pdEvents(dedup).map((e) => e.event_action)).toEqual(['trigger', 'resolve']);
    expect(slackTexts(before)).toEqual([]);
    expect((await q(`select status, resolution_reason from findings where fingerprint = $1`, [dedup]))[0]).toEqual({ status: 'resolved', resolution_reason: 'rule disabled' });
    expect((await q(`select count(*)::int n from findings where rule_id = 'token-expiring' and status = 'open'`))[0].n).toBe(0);
    // Enabled again: its first check since is a baseline (its findings come back silently; each sink gets a summary).
    const pdBefore = pd.requests.length;
    await run();
    expect(pd.requests.length).toBe(pdBefore);
    expect(slackTexts(before).map((t) => JSON.parse(t).text)).toEqual([expect.stringMatching(/^flarewatch is now watching/)]);
  });

  it('a removed rule (its SQL file deleted) resolves its findings with the reason "rule removed"', async () => {
    const file = join(rulesDir, 'urgent.sql');
    writeFileSync(file, `-- id: custom.urgent\n-- title: Always urgent\n-- severity: critical\nselect 'thing:' || n as resource_key, 'thing' as resource_type from generate_series(1, 0) n`);
    await run();
    writeFileSync(file, `-- id: custom.urgent\n-- title: Always urgent\n-- severity: critical\nselect 'thing:1' as resource_key, 'thing' as resource_type`);
    await run();
    const dedup = fingerprint('custom.urgent', 'thing:1');
    expect(pdEvents(dedup).map((e) => e.event_action)).toEqual(['trigger']);
    const before = slack.requests.length;
    rmSync(file);
    const r = await run();
    expect(r.checks!.outcomes.find((o) => o.ruleId === 'custom.urgent')).toMatchObject({ status: 'removed', resolved: 1 });
    expect(pdEvents(dedup).map((e) => e.event_action)).toEqual(['trigger', 'resolve']);
    expect(slackTexts(before)).toEqual([]);
    expect((await q(`select status, resolution_reason from findings where fingerprint = $1`, [dedup]))[0]).toEqual({ status: 'resolved', resolution_reason: 'rule removed' });
    expect((await q(`select status from rule_states where rule_id = 'custom.urgent'`))[0].status).toBe('removed');
  });
});
