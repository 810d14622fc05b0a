import { afterEach, describe, expect, it } from 'vitest';
import { auditVerifyCommand } from '../../src/commands/audit-verify.js';
import { formatStatus } from '../../src/commands/status.js';
import { verifySummaries } from '../../src/db/queries/audit-verifications.js';
import { streamLags } from '../../src/ops/metrics.js';
import { type AuditSettings, startSimulator, type Simulator } from '../../src/simulator/index.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { runVerify } from '../../src/verify/run.js';
import { dbDigest, entryTimeMs, simDigest, V2_ROUTE } from '../helpers/audit.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

// `flarewatch audit verify`: what the archive holds against what Cloudflare holds now, day by day.

const DAY = 86_400_000;
const T0 = Date.parse('2026-03-10T00:00:00Z');
const PAGE = 100;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Harness { sim: Simulator; db: TestDatabase; ctx: TestContext; account: string; v2: string }

async function archived(audit?: AuditSettings): Promise<Harness> {
  let clock = T0;
  const sim = await startSimulator({ seed: 8, size: { accounts: 1, accountAuditEntries: 1500, accountAuditV1Entries: 300, userAuditEntries: 200, auditDays: 6 }, rateLimit: false, now: () => clock, audit });
  const db = await createTestDatabase();
  cleanups.push(() => db.drop(), () => sim.close());
  const ctx = testContext(db, sim, { LOG_LEVEL: 'info', FLAREWATCH_AUDIT_PAGE_SIZE: String(PAGE) });
  clock = T0 + 3 * 60_000;
  ctx.now = () => new Date(clock);
  const outcomes = await syncAll(ctx, { streams: ['account-audit', 'account-audit-v1', 'user-audit'] });
  expect(outcomes.filter((o) => o.status !== 'succeeded')).toEqual([]);
  const account = sim.world.accounts[0]!.id;
  return { sim, db, ctx, account, v2: `account-audit:${account}` };
}

const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const verify = (h: Harness, opts: Partial<Parameters<typeof runVerify>[1]> = {}) => runVerify(h.ctx, { streams: [], maxRequests: 1000, repair: false, ...opts });
const streamOf = (r: Awaited<ReturnType<typeof runVerify>>, s: string) => r.streams.find((x) => x.stream === s)!;

describe('audit verify', () => {
  it('finds a gap made by deleting archived rows, and --repair closes it with exactly the requests of that day', async () => {
    const h = await archived();
    const clean = await verify(h);
    expect(clean.incomplete).toBe(false);
    for (const s of clean.streams) expect([s.stream, s.gaps]).toEqual([s.stream, []]);
    const v2 = streamOf(clean, h.v2);
    expect(v2.verified.length).toBe(6);
    expect(v2.verified.every((d) => d.status === 'ok' && d.api === d.archived)).toBe(true);

    // Twelve entries of one day go missing from the archive.
    const gapDay = day(T0 - 3 * DAY);
    const { rowCount } = await h.db.pool.query(
      `delete from audit_entries where ctid in (select ctid from audit_entries where source = 'account_v2' and event_time >= $1::date and event_time < $1::date + 1 limit 12)`, [gapDay]);
    expect(rowCount).toBe(12);
    const { rows: [{ n: recent }] } = await h.db.pool.query(`select count(*)::int as n from audit_verifications`);
    // Days verified a moment ago are not due again: age them, so the next run checks them all.
    await h.db.pool.query(`update audit_verifications set verified_at = verified_at - interval '40 days'`);
    const found = await verify(h);
    const gaps = streamOf(found, h.v2).gaps;
    const apiThatDay = [...h.sim.world.auditStream('account-v2', h.account).entries()].filter((e) => day(entryTimeMs(e)) === gapDay).length;
    expect(gaps).toEqual([{ day: gapDay, archived: apiThatDay - 12, api: apiThatDay, missing: 12, status: 'gap' }]);
    expect(recent).toBeGreaterThan(0);
    const { rows: [stored] } = await h.db.pool.query(`select missing, missing_sample from audit_verifications where stream = $1 and day = $2`, [h.v2, gapDay]);
    expect(stored.missing).toBe(12);
    expect(stored.missing_sample).toHaveLength(12);

    // status and /metrics say how far the archive is proven complete: up to the day before the gap.
    const summary = (await verifySummaries(h.db.db)).find((s) => s.stream === h.v2)!;
    expect(summary).toMatchObject({ verifiedThrough: day(T0 - 4 * DAY), gaps: 1, lastGap: gapDay });
    expect(formatStatus(await streamLags(h.db.db), { verify: await verifySummaries(h.db.db) })).toMatch(new RegExp(`${h.v2}.*through ${day(T0 - 4 * DAY)}, 1 gap day\\(s\\) \\(last ${gapDay}\\)`));

    h.sim.stats.reset();
    const repaired = await verify(h, { repair: true });
    const r = streamOf(repaired, h.v2);
    expect(r.repaired).toEqual([{ day: gapDay, archived: apiThatDay, api: apiThatDay, missing: 0, status: 'repaired' }]);
    expect(r.gaps).toEqual([]);
    // Exactly the missing day's pages, nothing else (every other day was verified just now).
    expect(h.sim.stats.total).toBe(Math.ceil(apiThatDay / PAGE));
    expect(h.sim.stats.log.every((l) => l.route === V2_ROUTE && l.query.since === `${gapDay}T00:00:00.000Z`)).toBe(true);
    expect(await dbDigest(h.db.pool, 'account-v2', h.account)).toEqual(simDigest(h.sim, 'account-v2', h.account));
    expect((await verifySummaries(h.db.db)).find((s) => s.stream === h.v2)).toMatchObject({ verifiedThrough: day(T0 - DAY), gaps: 0 });
    // Idempotent: nothing left to repair, nothing asked.
    h.sim.stats.reset();
    await verify(h, { repair: true });
    expect(h.sim.stats.total).toBe(0);
  });

  it('entries Cloudflare already dropped are not gaps', async () => {
    const h = await archived();
    // Cloudflare's retention now drops everything older than 2.5 days: the archive keeps them.
    h.sim.world.audit.retentionMs = 2.5 * DAY;
    const report = await verify(h);
    const v2 = streamOf(report, h.v2);
    expect(v2.gaps).toEqual([]);
    const partial = v2.verified.find((d) => d.api < d.archived)!;
    expect(partial).toMatchObject({ status: 'ok', missing: 0 });
    expect(v2.verified.filter((d) => d.api === 0 && d.archived > 0).length).toBeGreaterThan(0);
  });

  it('stays within --max-requests: the days it could not reach are left for the next run', async () => {
    const h = await archived();
    const estimate = await verify(h, { estimateOnly: true });
    expect(streamOf(estimate, h.v2).estimate).toBeGreaterThan(5);
    h.sim.stats.reset();
    const cut = await verify(h, { streams: [h.v2], maxRequests: 5 });
    expect(cut.incomplete).toBe(true);
    expect(h.sim.stats.total).toBe(5);
    const first = streamOf(cut, h.v2).verified.length;
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(6);
    const rest = await verify(h, { streams: [h.v2] });
    expect(rest.incomplete).toBe(false);
    expect(streamOf(rest, h.v2).verified.length).toBe(6 - first);
  });

  it('the command prints the cost first, then per stream the days verified and the gaps; exit 1 while a gap remains', async () => {
    const h = await archived();
    const gapDay = day(T0 - 2 * DAY);
    await h.db.pool.query(`delete from audit_entries where ctid in (select ctid from audit_entries where source = 'account_v2' and event_time >= $1::date and event_time < $1::date + 1 limit 3)`, [gapDay]);
    const { output, exitCode } = await auditVerifyCommand(h.ctx, { streams: [], maxRequests: 500, repair: false });
    expect(exitCode).toBe(1);
    const lines = output.split('\n');
    expect(lines[0]).toMatch(/^audit verify: \d+ day\(s\) due across 3 stream\(s\), about \d+ request\(s\) \(budget 500, paced by each credential's rate limit\)$/);
    expect(output).toContain(`  gap ${gapDay}: archived `);
    expect(output).toMatch(new RegExp(`${h.v2}: 6 of 6 due day\\(s\\) verified, 0 repaired, 1 day\\(s\\) with gaps`));
    const fixed = await auditVerifyCommand(h.ctx, { streams: [], maxRequests: 500, repair: true });
    expect(fixed.exitCode).toBe(0);
    expect(fixed.output).toContain(`  repaired ${gapDay}: complete now`);
  });

  it('one verify walk of many requests leaves no abort listeners behind (no MaxListenersExceededWarning)', async () => {
    const h = await archived();
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      h.sim.stats.reset();
      await verify(h, { streams: [h.v2] });
      // More requests on the walk's one budget signal than Node's limit of 10 listeners.
      expect(h.sim.stats.total).toBeGreaterThan(10);
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
  });
});
