// No storm on day one: a fresh database records what it finds and each sink gets one summary;
// from then on, new findings alert one by one. Real simulator, real sync, real Slack receiver.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runOnce } from '../../src/commands/run.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { startHttpReceiver, type HttpReceiver } from '../helpers/receivers.js';

const SLACK_PATH = '/services/T0BASE/B0BASE/baselineSecretPath42';
const SIZE = { accounts: 2, userTokens: 6, accountTokensPerAccount: 6, membersPerAccount: 8, userInvites: 2, accountAuditEntries: 400, accountAuditV1Entries: 100, userAuditEntries: 100, auditDays: 10 };

let sim: Simulator;
const cleanup: Array<() => Promise<unknown>> = [];

async function setup(env: Record<string, string> = {}) {
  const db: TestDatabase = await createTestDatabase();
  const slack: HttpReceiver = await startHttpReceiver();
  cleanup.push(() => slack.close(), () => db.drop());
  // Setting only FLAREWATCH_SLACK_WEBHOOK_URL: the Slack sink at every severity, and the default log sink.
  const ctx: TestContext = testContext(db, sim, { FLAREWATCH_SLACK_WEBHOOK_URL: `${slack.url}${SLACK_PATH}`, ...env });
  const q = async (text: string, params: unknown[] = []) => (await db.pool.query(text, params)).rows;
  return { db, slack, ctx, q };
}

const bodies = (r: HttpReceiver, from = 0) => r.requests.slice(from).map((x) => JSON.parse(x.rawBody) as { text: string; blocks: Array<{ type: string; text?: { text: string }; elements?: Array<{ text: string }> }> });
const textOf = (b: ReturnType<typeof bodies>[number]) => JSON.stringify(b);

beforeAll(async () => {
  sim = await startSimulator({ seed: 12, size: SIZE, rateLimit: false });
});
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
  await sim?.close();
});

describe('the first run', () => {
  let env: Awaited<ReturnType<typeof setup>>;

  it('a fresh database with a Slack sink gets one summary message, not one per finding', async () => {
    env = await setup();
    const result = await runOnce(env.ctx);
    expect(result.outcomes.filter((o) => o.status === 'failed')).toEqual([]);
    const [open] = await env.q(`select count(*)::int n, count(*) filter (where severity in ('high', 'critical'))::int high from findings where status = 'open' and not suppressed`);
    expect(open.n).toBeGreaterThan(20);
    expect(env.slack.requests).toHaveLength(1);
    const [summary] = bodies(env.slack);
    expect(summary!.text).toBe(`flarewatch is now watching ${open.n} open findings, ${open.high} high or critical`);
    expect(textOf(summary!)).toContain(open.high ? 'flarewatch findings --severity high' : 'flarewatch findings');
    expect(textOf(summary!)).toContain('Most severe');
    // Every finding is recorded (with its history); the outbox holds one summary per sink and nothing else.
    expect((await env.q(`select count(*)::int n from finding_events where transition = 'opened'`))[0].n).toBe(open.n + (await env.q(`select count(*)::int n from findings where suppressed or status <> 'open'`))[0].n);
    expect(await env.q(`select kind, count(*)::int n from alerts group by 1`)).toEqual([{ kind: 'summary', n: 2 }]);
    expect(await env.q(`select sink, status from alert_deliveries order by sink`)).toEqual([{ sink: 'log', status: 'sent' }, { sink: 'slack', status: 'sent' }]);
  });

  it('the next runs alert what is new, one message per new finding, and nothing twice', async () => {
    const before = env.slack.requests.length;
    await runOnce(env.ctx);
    expect(env.slack.requests.length).toBe(before);
    const token = sim.world.addUserToken({ name: 'brand new token', status: 'active', expires_on: undefined });
    const result = await runOnce(env.ctx);
    const opened = result.checks!.transitions.filter((t) => t.transition === 'opened' && !t.suppressed);
    expect(opened.length).toBeGreaterThan(0);
    expect(opened.every((t) => t.resourceKey === `token:${token.id}`)).toBe(true);
    const sent = bodies(env.slack, before);
    expect(sent).toHaveLength(opened.length);
    for (const b of sent) expect(b.text).toMatch(/^\[(Info|Low|Medium|High|Critical)\] .*brand new token/);
  });

  it('check --baseline records a run without per-finding alerts: each sink gets a summary', async () => {
    const before = env.slack.requests.length;
    sim.world.addUserToken({ name: 'quiet token', status: 'active', expires_on: undefined });
    await runOnce(env.ctx, { baseline: true });
    const sent = bodies(env.slack, before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.text).toMatch(/^flarewatch is now watching \d+ open findings/);
    expect(textOf(sent[0]!)).toMatch(/ [1-9]\d* recorded without alerts/);
  });
});

describe('the baseline setting', () => {
  it('FLAREWATCH_ALERTS_BASELINE=false alerts every finding of the first run one by one (the storm it prevents)', async () => {
    const env = await setup({ FLAREWATCH_ALERTS_BASELINE: 'false' });
    await runOnce(env.ctx);
    const [open] = await env.q(`select count(*)::int n from findings where status = 'open' and not suppressed`);
    expect(env.slack.requests.length).toBe(open.n);
    expect(bodies(env.slack).every((b) => !b.text.startsWith('flarewatch is now watching'))).toBe(true);
  });
});

describe('an account watched for the first time', () => {
  it('is a baseline for its own findings; the others still alert one by one', async () => {
    const [first, second] = sim.world.accounts.map((a) => a.id);
    const env = await setup({ FLAREWATCH_ACCOUNTS: first! });
    await runOnce(env.ctx);
    expect(bodies(env.slack).map((b) => b.text)).toEqual([expect.stringMatching(/^flarewatch is now watching/)]);
    sim.world.addAccountToken(first!, { name: 'new token in the first account', status: 'active', expires_on: undefined });
    env.ctx.config.cloudflare.accounts = [first!, second!];
    const before = env.slack.requests.length;
    await runOnce(env.ctx);
    const [secondOpen] = await env.q(`select count(*)::int n from findings where account_id = $1 and status = 'open' and not suppressed`, [second]);
    expect(secondOpen.n).toBeGreaterThan(0);
    const sent = bodies(env.slack, before);
    const summaries = sent.filter((b) => b.text.startsWith('flarewatch is now watching'));
    expect(summaries).toHaveLength(1);
    const alerts = sent.filter((b) => !b.text.startsWith('flarewatch is now watching'));
    expect(alerts.length).toBeGreaterThan(0);
    for (const b of alerts) expect(textOf(b)).toContain('new token in the first account');
    const perFinding = await env.q(`select a.event->>'accountId' as account from alerts a where a.kind = 'opened'`);
    expect(perFinding.every((r) => r.account === first)).toBe(true);
  });
});
