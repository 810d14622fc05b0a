import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixExceptCommand } from '../../src/commands/fix.js';
import { runChecks } from '../../src/commands/run.js';
import { remediationConfigSchema } from '../../src/config/remediation.js';
import { runHygiene } from '../../src/remediation/hygiene.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

// A hygiene policy end to end, on an injected clock (no sleeping): notice first, to the owner and
// the sinks; a use of the token in between cancels it; an exception keeps a token out; on the date
// the policy (auto: true) plans and applies, as its own approval, with one write per token.

const DAY = 86_400_000;
const T0 = Date.parse('2026-07-01T09:00:00Z');
const clock = { t: T0 };
let db: TestDatabase;
let sim: Simulator;
let ctx: TestContext;
let account: string;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

async function syncAndCheck() {
  for (const o of await syncAll(ctx, { streams: [] })) expect(o.status, o.stream).not.toBe('failed');
  await runChecks(ctx);
}
/** A round as the daemon runs it: sync and check, then the hygiene job (its own, not part of the check). */
async function round() {
  await syncAndCheck();
  await runHygiene(ctx);
}
const noticeCount = async () => (await db.pool.query<{ n: number }>('select count(*)::int as n from remediation_notices')).rows[0]!.n;
const unused = (name: string) => sim.world.addAccountToken(account, { name, last_used_on: iso(T0 - 200 * DAY), issued_on: '2025-01-01T00:00:00Z', creator_email_at_creation: `${name.split(' ')[0]}@example.com` });
const status = (id: string) => sim.world.accountTokens(account).find((t) => t.id === id)!.status;
async function events() {
  const { rows } = await db.pool.query<{ object_key: string; kind: string; reason: string | null }>(
    'select n.object_key, v.kind, v.reason from remediation_notice_events v join remediation_notices n on n.id = v.notice_id order by v.id');
  return rows;
}

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({ seed: 2020, rateLimit: false, now: () => clock.t,
    size: { accounts: 1, userTokens: 1, accountTokensPerAccount: 1, membersPerAccount: 3, userInvites: 1, userAuditEntries: 5, accountAuditEntries: 5, accountAuditV1Entries: 5, auditDays: 1 } });
  account = sim.world.accounts[0]!.id;
  ctx = testContext(db, sim, { LOG_LEVEL: 'info' }, [{ name: 'writer', apiToken: sim.credentials.apiToken, write: true }]);
  ctx.now = () => new Date(clock.t);
  ctx.config.remediation = remediationConfigSchema.parse({ enabled: true, policies: [{ rule: 'token-unused', action: 'disable', after: '0d', notice: '14d', auto: true }] });
});
afterAll(async () => {
  await sim.close();
  await db.drop();
});

describe('hygiene policy with notice', () => {
  it('gives notice, cancels on use or exception, and disables on the date', async () => {
    const stale = unused('stale ci token');
    const used = unused('used later');
    const kept = unused('kept on purpose');
    await fixExceptCommand(ctx, `token:${kept.id}`, { reason: 'break-glass token', by: 'carol@example.com' });
    sim.stats.reset();
    await syncAndCheck();
    // The check gives no notice itself: hygiene is a job of its own.
    expect(await noticeCount()).toBe(0);
    await runHygiene(ctx);
    const { rows: notices } = await db.pool.query('select object_key, owner_email, act_on from remediation_notices order by id');
    expect(notices.map((n) => n.object_key).sort()).toEqual([`token:${stale.id}`, `token:${used.id}`].sort());
    expect(notices.find((n) => n.object_key === `token:${stale.id}`)!.owner_email).toBe('stale@example.com');
    expect(new Date(notices[0].act_on).getTime()).toBe(T0 + 14 * DAY);
    const { rows: alerts } = await db.pool.query("select event from alerts where event->>'ruleId' = 'remediation.notice' order by seq");
    const staleAlert = alerts.find((a) => a.event.resourceKey === `token:${stale.id}`)!.event;
    expect(staleAlert.title).toBe('stale ci token will be disabled on 2026-07-15 unless it is used or excepted');
    expect(staleAlert.facts.notify).toBe('stale@example.com');
    expect(sim.stats.writeTotal).toBe(0);

    clock.t = T0 + 7 * DAY;
    sim.world.updateToken(used.id, { last_used_on: iso(clock.t - 3_600_000) });
    await round();
    expect(await events()).toEqual([{ object_key: `token:${used.id}`, kind: 'cancelled', reason: `the token was used on ${new Date(clock.t - 3_600_000).toISOString()}` }]);
    expect(sim.stats.writeTotal).toBe(0);
    expect(status(stale.id)).toBe('active');

    clock.t = T0 + 14 * DAY + 60_000;
    await round();
    expect(status(stale.id)).toBe('disabled');
    expect(status(used.id)).toBe('active');
    expect(status(kept.id)).toBe('active');
    expect(sim.stats.writes).toEqual({ [`PUT /client/v4/accounts/${account}/tokens/${stale.id}`]: 1 });
    const steps = (await events()).filter((e) => e.object_key === `token:${stale.id}`).map((e) => e.kind);
    expect(steps).toEqual(['planned', 'applied']);
    const { rows: approvals } = await db.pool.query('select approved_by, via from remediation_approvals');
    expect(approvals).toEqual([{ approved_by: 'policy:token-unused:disable', via: 'policy' }]);

    // The next run finds nothing more to do: the finding resolved, the notice is closed.
    clock.t += DAY;
    await round();
    expect(sim.stats.writeTotal).toBe(1);
  });
});
