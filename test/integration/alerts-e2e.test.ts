// Simulator → sync → check → alert, end to end: hostile token names reach Slack inert and
// capped, the dashboard link and account name come from the synced data, and `run` ends with delivery.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { alertsConfigSchema } from '../../src/config/alerts.js';
import { runOnce } from '../../src/commands/run.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startHttpReceiver, type HttpReceiver } from '../helpers/receivers.js';

const SLACK_PATH = '/services/T0E2E/B0E2E/slackE2eSecretPath987';
const HOSTILE = '<!channel> <script>alert(1)</script>';
const LONG = `long-${'x'.repeat(5000)}`;

let db: TestDatabase;
let sim: Simulator;
let ctx: TestContext;
let slack: HttpReceiver;

beforeAll(async () => {
  db = await createTestDatabase();
  slack = await startHttpReceiver();
  sim = await startSimulator({ seed: 5, size: { accounts: 1, userTokens: 1, accountTokensPerAccount: 0, membersPerAccount: 1, userInvites: 0 }, rateLimit: false });
  const account = sim.world.accounts[0]!.id;
  sim.world.addUserToken({ name: HOSTILE, status: 'active', expires_on: undefined });
  sim.world.addAccountToken(account, { name: LONG, status: 'active', expires_on: undefined });
  ctx = testContext(db, sim, { FLAREWATCH_SLACK_WEBHOOK_URL: `${slack.url}${SLACK_PATH}`, FLAREWATCH_STREAMS: 'user-tokens,accounts,account-tokens,permission-groups' });
  // Per-finding alerts from the first run on (the first run's baseline summary: alerts-baseline.test.ts).
  ctx.config.alerts = alertsConfigSchema.parse({ sinks: { slack: { webhookUrl: `${slack.url}${SLACK_PATH}`, rules: ['token-no-expiry'] } }, logSink: false, baseline: false });
});
afterAll(async () => {
  await slack?.close();
  await sim?.close();
  await db?.drop();
});

it('delivers the findings of a run to Slack with hostile names escaped and capped, and no secret', async () => {
  const result = await runOnce(ctx);
  expect(result.alerts?.sinks).toEqual([expect.objectContaining({ sink: 'slack', failed: 0, dead: 0, pending: 0 })]);
  expect(result.alerts!.sinks[0]!.sent).toBeGreaterThanOrEqual(2);
  const bodies = slack.requests.map((r) => r.rawBody);
  const all = bodies.join('\n');
  // Inert: no Slack control sequence, no raw HTML, and nothing near 5000 characters in one text.
  expect(all).not.toContain('<!channel>');
  expect(all).not.toContain('<script>');
  const hostile = bodies.find((b) => b.includes('&lt;!channel&gt;'));
  expect(hostile).toBeDefined();
  const long = slack.requests.map((r) => JSON.parse(r.rawBody)).find((p) => JSON.stringify(p).includes('long-xxxx'));
  expect(long).toBeDefined();
  const texts: string[] = [];
  JSON.stringify(long, (_k, v) => (typeof v === 'string' && texts.push(v), v));
  expect(Math.max(...texts.map((t) => t.length))).toBeLessThanOrEqual(3000);
  // The account token links to its account's token page; the user token to the profile page.
  const account = sim.world.accounts[0]!.id;
  const events = (await db.pool.query(`select event from alerts where event->>'ruleId' = 'token-no-expiry'`)).rows.map((r) => r.event);
  expect(events.find((e) => e.resourceName === LONG)).toMatchObject({ dashboardUrl: `https://dash.cloudflare.com/${account}/api-tokens`, accountName: sim.world.accounts[0]!.name });
  expect(events.find((e) => e.resourceName === HOSTILE)).toMatchObject({ dashboardUrl: 'https://dash.cloudflare.com/profile/api-tokens' });
  for (const s of ['T0E2E', 'slackE2eSecretPath987', sim.credentials.apiToken]) {
    expect(all).not.toContain(s);
    expect(ctx.logLines.join('\n')).not.toContain(s);
  }
  // A second run sends nothing new.
  const n = slack.requests.length;
  await runOnce(ctx);
  expect(slack.requests.length).toBe(n);
});
