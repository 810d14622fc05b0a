import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessOf } from '../../src/access/of.js';
import type { AccessRow } from '../../src/access/rows.js';
import { whoCan } from '../../src/access/who-can.js';
import { accessOfCommand, whoCanCommand } from '../../src/commands/access.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { accessWorld } from '../helpers/access-world.js';
import { succeeded } from '../helpers/audit.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { INVENTORY_KINDS } from '../helpers/inventory.js';

// An answer at a past instant is judged by the listings as they stood then (migration 0031), never
// by today's: the user-groups listing is forbidden for the credential at T1, readable at T2, and
// forbidden again at T3 (the simulator answers 403, then lifts it, through real walks with the
// clock set). Bob edits DNS only through a group, so a picture without groups lacks him.

const HOUR = 3_600_000;
const T0 = Date.parse('2026-05-01T00:00:00Z');
const [T1, T2, T3] = [T0 + HOUR, T0 + 2 * HOUR, T0 + 3 * HOUR];
const at = (t: number) => new Date(t);
const iso = (t: number) => new Date(t).toISOString();
const BEFORE = T0; // before the first sync: no picture known

let db: TestDatabase;
let sim: Simulator;
let ctx: TestContext;
let acct: string;
let acctName: string;
const clock = { t: T1 };

async function syncAt(t: number) {
  clock.t = t;
  for (const o of await syncAll(ctx, { streams: INVENTORY_KINDS })) succeeded(o);
}
const q = async <T>(text: string, params: unknown[] = []) => (await db.pool.query(text, params)).rows as T[];
// The world's owner and its organization's member hold DNS too (Super Administrator): the test's people are at shop.test.
const ours = (rows: AccessRow[]) => rows.filter((r) => r.principal?.endsWith('@shop.test'));
const holders = (rows: AccessRow[]) => ours(rows).map((r) => `${r.principal} ${r.path}`).sort();
/** What the walk at T1 recorded for user-groups (the 403 and Cloudflare's message), as the picture names it. */
let reasonT1 = '';
const forbiddenLines = async () => [`user-group-members forbidden (${reasonT1})`, `user-groups forbidden (${reasonT1})`];

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({
    seed: 31, rateLimit: false, now: () => clock.t,
    size: { accounts: 1, users: 1, extraUserTokens: 0, userTokens: 0, accountTokensPerAccount: 0, membersPerAccount: 1, userInvites: 0 },
  });
  ctx = testContext(db, sim, { LOG_LEVEL: 'warn' });
  ctx.now = () => new Date(clock.t);
  const w = accessWorld(sim);
  acct = w.account(0);
  acctName = sim.world.accounts[0]!.name;
  w.addMember(acct, { email: 'alice@shop.test', roles: ['DNS'] });
  const bob = w.addMember(acct, { email: 'bob@shop.test' });
  const team = w.addUserGroup(acct, { name: 'DNS Team', policies: [{ permissionGroups: ['DNS'] }] });
  w.addGroupMember(team.id, bob.id);

  w.denyListing('default', 'user-groups');
  await syncAt(T1);
  reasonT1 = (await q<{ reason: string }>(`select reason from access_listings where scope = $1 and listing = 'user-groups'`, [`account:${acct}`]))[0]!.reason;
  expect(reasonT1).toMatch(/^HTTP 403: .*code 10000/);
  w.allowListing('default', 'user-groups');
  await syncAt(T2);
});

afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

describe('a listing forbidden then, readable now', () => {
  it('the walks recorded each state of the listing, from when to when', async () => {
    const versions = await q<{ state: string; valid_from: Date; valid_to: Date | null; change: string }>(
      `select state, valid_from, valid_to, change from access_listing_versions where scope = $1 and listing = 'user-groups' order by valid_from`, [`account:${acct}`]);
    expect(versions.map((v) => [v.state, v.valid_from.toISOString(), v.valid_to?.toISOString() ?? null, v.change])).toEqual([
      ['forbidden', iso(T1), iso(T2), 'created'],
      ['complete', iso(T2), null, 'changed'],
    ]);
  });

  it('who-can --at T1 is incomplete and names the forbidden listing; --at T2 and now are complete', async () => {
    const then = await whoCan(db.db, { permission: 'dns:edit', at: at(T1 + 60_000) });
    expect(holders(then.rows)).toEqual(['alice@shop.test role']);
    expect(then.incomplete).toEqual([{ account_id: acct, account_name: acctName, missing: await forbiddenLines() }]);
    const later = await whoCan(db.db, { permission: 'dns:edit', at: at(T2 + 60_000) });
    expect(holders(later.rows)).toEqual(['alice@shop.test role', 'bob@shop.test group']);
    expect(later.incomplete).toEqual([]);
    expect((await whoCan(db.db, { permission: 'dns:edit' })).incomplete).toEqual([]);
    // Scoped to the account (the one-account model) the same.
    expect((await whoCan(db.db, { permission: 'dns:edit', account: acct, at: at(T1 + 60_000) })).incomplete.map((p) => p.missing)).toEqual([await forbiddenLines()]);
  });

  it('the table, JSON and CSV outputs say it as the present answer does', async () => {
    const lines = await forbiddenLines();
    const table = await whoCanCommand(ctx, { permission: 'dns:edit', at: iso(T1 + 60_000), format: 'table' });
    expect(table.warnings).toEqual([`access picture incomplete for account ${acctName}: ${lines.join('; ')}`]);
    const json = JSON.parse((await whoCanCommand(ctx, { permission: 'dns:edit', at: iso(T1 + 60_000), format: 'json' })).output);
    expect(json).toMatchObject({ at: iso(T1 + 60_000), picture_complete: false, incomplete: [{ account_id: acct, missing: lines }] });
    expect(ours(json.rows).map((r) => [r.principal, r.picture_complete, r.picture_missing])).toEqual([['alice@shop.test', false, lines]]);
    expect(json.rows.every((r: AccessRow) => !r.picture_complete)).toBe(true);
    const csv = await whoCanCommand(ctx, { permission: 'dns:edit', at: iso(T1 + 60_000), format: 'csv' });
    expect(csv.warnings).toEqual(table.warnings);
    const lastColumn = (out: string) => [...new Set(out.trim().split(/\r?\n/).slice(1).map((l) => l.split(',').at(-1)))];
    expect(lastColumn(csv.output)).toEqual(['false']);
    expect(csv.output).toContain('alice@shop.test');
    const csvLater = await whoCanCommand(ctx, { permission: 'dns:edit', at: iso(T2 + 60_000), format: 'csv' });
    expect(csvLater.warnings).toEqual([]);
    expect(lastColumn(csvLater.output)).toEqual(['true']);
    expect(csvLater.output).toContain('bob@shop.test');
    const jsonLater = JSON.parse((await whoCanCommand(ctx, { permission: 'dns:edit', at: iso(T2 + 60_000), format: 'json' })).output);
    expect(jsonLater).toMatchObject({ picture_complete: true, incomplete: [] });
  });

  it('access of --at T1 is incomplete, --at T2 complete', async () => {
    expect((await accessOf(db.db, 'alice@shop.test', at(T1 + 60_000))).incomplete.map((p) => p.missing)).toEqual([await forbiddenLines()]);
    expect((await accessOf(db.db, 'alice@shop.test', at(T2 + 60_000))).incomplete).toEqual([]);
  });

  it('the SQL surface: effective_access_at and access_pictures_at answer for the instant', async () => {
    const rowsAt = (t: number) => q<{ principal: string; picture_complete: boolean; picture_missing: string[] }>(
      `select principal, picture_complete, picture_missing from effective_access_at($1) where account_id = $2 and principal like '%@shop.test' order by principal`, [iso(t), acct]);
    expect(await rowsAt(T1 + 60_000)).toEqual([{ principal: 'alice@shop.test', picture_complete: false, picture_missing: await forbiddenLines() }]);
    expect((await rowsAt(T2 + 60_000)).map((r) => [r.principal, r.picture_complete])).toEqual([['alice@shop.test', true], ['bob@shop.test', true]]);
    const pic = (t: number) => q<{ complete: boolean; missing: string[] }>(`select complete, missing from access_pictures_at($1) where account_id = $2`, [iso(t), acct]);
    expect(await pic(T1)).toEqual([{ complete: false, missing: await forbiddenLines() }]);
    expect(await pic(T2)).toEqual([{ complete: true, missing: [] }]);
    // The view is the same definition now.
    expect(await q(`select complete, missing from access_pictures where account_id = $1`, [acct])).toEqual(await pic(T2 + HOUR));
  });
});

describe('before history began for the account', () => {
  const unknown = `no picture known at that instant: history begins ${iso(T1).replace('.000Z', 'Z')}`;

  it('who-can says "no picture known", never an empty complete answer', async () => {
    const r = await whoCan(db.db, { permission: 'dns:edit', at: at(BEFORE) });
    expect(r.rows).toEqual([]);
    expect(r.incomplete).toEqual([{ account_id: acct, account_name: acctName, missing: [unknown] }]);
    const json = JSON.parse((await whoCanCommand(ctx, { permission: 'dns:edit', at: iso(BEFORE), format: 'json' })).output);
    expect(json).toMatchObject({ picture_complete: false, rows: [], incomplete: [{ account_id: acct, missing: [unknown] }] });
    expect(await q(`select complete, missing from access_pictures_at($1) where account_id is null`, [iso(BEFORE)]))
      .toEqual([{ complete: false, missing: [unknown] }]);
  });

  it('access of a member there answers with what is missing, not "no such member"', async () => {
    const r = await accessOfCommand(ctx, { principal: 'alice@shop.test', at: iso(BEFORE), format: 'table' });
    expect(r.warnings).toEqual([`access picture incomplete for account ${acctName}: ${unknown}`]);
    expect(r.output).toContain('nothing found, and the picture is incomplete');
    // Now, an unknown principal is still an error.
    await expect(accessOf(db.db, 'nobody@shop.test')).rejects.toThrow('access of: no member or token "nobody@shop.test"');
  });
});

describe('a listing read then, forbidden now', () => {
  beforeAll(async () => {
    accessWorld(sim).denyListing('default', 'user-groups');
    await syncAt(T3);
  });

  it('--at T2 stays complete; now and --at T3 are incomplete; --at T1 still names its own 403', async () => {
    const t2 = await whoCan(db.db, { permission: 'dns:edit', at: at(T2 + 60_000) });
    expect(holders(t2.rows)).toEqual(['alice@shop.test role', 'bob@shop.test group']);
    expect(t2.incomplete).toEqual([]);
    const lines = await q<{ reason: string }>(`select reason from access_listings where scope = $1 and listing = 'user-groups'`, [`account:${acct}`]);
    const now = await whoCan(db.db, { permission: 'dns:edit' });
    expect(now.incomplete.map((p) => p.missing)).toEqual([[`user-group-members forbidden (${lines[0]!.reason})`, `user-groups forbidden (${lines[0]!.reason})`]]);
    expect((await whoCan(db.db, { permission: 'dns:edit', at: at(T3 + 60_000) })).incomplete).toEqual(now.incomplete);
    expect((await whoCan(db.db, { permission: 'dns:edit', at: at(T1 + 60_000) })).incomplete.map((p) => p.missing)).toEqual([await forbiddenLines()]);
    expect((await accessOf(db.db, 'bob@shop.test', at(T2 + 60_000))).incomplete).toEqual([]);
  });

  it('a round that finds the same states writes no version', async () => {
    const count = async () => (await q<{ n: number }>('select count(*)::int as n from access_listing_versions'))[0]!.n;
    const before = await count();
    await syncAt(T3 + HOUR);
    expect(await count()).toBe(before);
  });
});
