import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whoCan } from '../../src/access/who-can.js';
import { runMigrations } from '../../src/db/migrate.js';
import { accessRows } from '../helpers/access-rows.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { type Cleanups, databaseThrough } from '../helpers/upgrade.js';

// Migration 0031: the history of each listing an access picture is built from. An existing database
// gets a baseline from today's states, valid from the last listing write (nothing known before it);
// from then on the trigger on access_listings keeps one open version per listing, a new one only
// when what the picture says of it changes.

const cleanups: Cleanups = [];
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const LISTINGS = ['members', 'user-groups', 'user-group-members', 'resource-groups', 'zones', 'account-tokens'];
const iso = (s: string) => new Date(s).toISOString();

describe('upgrading a database with access listings', () => {
  it('opens a baseline from today\'s states; an instant before it has no picture, one after it today\'s', async () => {
    // Everything before 0031, as a released database holds it.
    const { url, database } = await databaseThrough(30, cleanups);
    const pool = database.pool;
    const w = accessRows(pool);
    await w.account('acme', 'Acme');
    await w.account('never', 'Never Walked');
    const write = (scope: string, listing: string, state: string, checked: string, reason: string | null = null) =>
      pool.query(`insert into access_listings (scope, account_id, listing, state, reason, credential, checked_at) values ($1, $2, $3, $4, $5, 'default', $6)`,
        [scope, scope.startsWith('account:') ? scope.slice(8) : null, listing, state, reason, checked]);
    for (const l of LISTINGS) await write('account:acme', l, l === 'user-groups' ? 'forbidden' : 'complete', '2026-04-01T10:00:00Z', l === 'user-groups' ? 'HTTP 403: no' : null);
    for (const l of ['organizations', 'user-tokens']) await write('credential:default', l, 'complete', '2026-04-01T10:05:00Z');

    await runMigrations(url);
    const versions = (await pool.query(`select scope, listing, state, change, valid_from, valid_to from access_listing_versions order by scope, listing`)).rows;
    expect(versions).toHaveLength(8);
    expect(new Set(versions.map((v) => `${v.change} ${v.valid_from.toISOString()} ${v.valid_to}`))).toEqual(new Set([`baseline ${iso('2026-04-01T10:05:00Z')} null`]));

    const pic = async (t: string | null, account: string) =>
      (await pool.query(`select complete, missing from access_pictures_at($1) where account_id = $2`, [t, account])).rows[0];
    expect(await pic('2026-04-01T10:04:00Z', 'acme')).toEqual({ complete: false, missing: ['no picture known at that instant: history begins 2026-04-01T10:05:00Z'] });
    expect(await pic('2026-04-02T00:00:00Z', 'acme')).toEqual({ complete: false, missing: ['user-groups forbidden (HTTP 403: no)'] });
    expect(await pic(null, 'acme')).toEqual(await pic('2026-04-02T00:00:00Z', 'acme'));
    // An account none of whose listings was ever walked: not synced now, never synced at any instant.
    expect(await pic('2026-04-02T00:00:00Z', 'never')).toEqual({ complete: false, missing: ['no picture known at that instant: never synced'] });
    expect((await pic(null, 'never')).missing).toContain('members not synced');
    // A member whose history reaches further back than the listings': a row then, its picture unknown.
    await w.member({ id: 'm-old', account: 'acme', email: 'old@example.com', roles: ['DNS'] });
    await pool.query(`insert into account_member_versions (valid_from, change, changed_fields, member_id, account_id, email, status, role_names, policies)
                      values ('2026-03-01T00:00:00Z', 'baseline', '{}', 'm-old', 'acme', 'old@example.com', 'accepted', '{DNS}', '[]')`);
    const rowAt = async (t: string) => (await pool.query(
      `select picture_complete, picture_missing from effective_access_at($1) where principal_id = 'm-old'`, [t])).rows;
    expect(await rowAt('2026-03-15T00:00:00Z')).toEqual([{ picture_complete: false, picture_missing: ['no picture known at that instant: history begins 2026-04-01T10:05:00Z'] }]);
    expect(await rowAt('2026-04-02T00:00:00Z')).toEqual([{ picture_complete: false, picture_missing: ['user-groups forbidden (HTTP 403: no)'] }]);
  });
});

describe('the trigger on access_listings', () => {
  let db: TestDatabase;
  const q = async (text: string, params: unknown[] = []) => (await db.pool.query(text, params)).rows;
  const upsert = (state: string, checked: string, credential = 'default', reason: string | null = null) => q(
    `insert into access_listings (scope, account_id, listing, state, reason, credential, checked_at) values ('account:a1', 'a1', 'zones', $1, $2, $3, $4)
     on conflict (scope, listing) do update set state = excluded.state, reason = excluded.reason, credential = excluded.credential, checked_at = excluded.checked_at`,
    [state, reason, credential, checked]);
  const history = async () => (await q(`select state, credential, change, changed_fields, valid_from, valid_to, ended_by from access_listing_versions
    where scope = 'account:a1' and listing = 'zones' order by valid_from, version_id`))
    .map((v) => [v.state, v.change, v.changed_fields.join('+'), v.valid_from.toISOString(), v.valid_to?.toISOString() ?? null, v.ended_by]);

  beforeAll(async () => {
    db = await createTestDatabase();
    cleanups.push(() => db.drop());
  });

  it('with no account stored at all, who-can says the picture is incomplete (the user-level row), now and at any instant', async () => {
    for (const at of [undefined, new Date('2026-01-01T00:00:00Z')]) {
      const r = await whoCan(db.db, { permission: 'dns:edit', at });
      expect(r.rows).toEqual([]);
      expect(r.incomplete).toEqual([{ account_id: null, account_name: null,
        missing: at ? ['no picture known at that instant: never synced'] : ['organizations not synced', 'user-tokens not synced'] }]);
    }
  });

  it('a version per change of what the picture says, none for the same state checked again or read by another credential', async () => {
    await upsert('complete', '2026-04-01T00:00:00Z');
    await upsert('complete', '2026-04-01T01:00:00Z');
    await upsert('complete', '2026-04-01T02:00:00Z', 'other');
    await upsert('forbidden', '2026-04-01T03:00:00Z', 'other', 'HTTP 403: no');
    await upsert('forbidden', '2026-04-01T04:00:00Z', 'other', 'HTTP 403: no');
    await upsert('complete', '2026-04-01T05:00:00Z');
    expect(await history()).toEqual([
      ['complete', 'created', '', iso('2026-04-01T00:00:00Z'), iso('2026-04-01T03:00:00Z'), 'change'],
      ['forbidden', 'changed', 'state+reason+credential', iso('2026-04-01T03:00:00Z'), iso('2026-04-01T05:00:00Z'), 'change'],
      ['complete', 'changed', 'state+reason+credential', iso('2026-04-01T05:00:00Z'), null, null],
    ]);
  });

  it('a check stamped before the open version began does not end it before it began', async () => {
    await upsert('failed', '2026-04-01T04:30:00Z', 'default', 'HTTP 500');
    const [, , prev, last] = await history();
    expect(prev!.slice(3, 5)).toEqual([iso('2026-04-01T05:00:00Z'), iso('2026-04-01T05:00:00Z')]);
    expect(last!.slice(0, 4)).toEqual(['failed', 'changed', 'state+reason', iso('2026-04-01T05:00:00Z')]);
  });

  it('two walks writing one listing at once leave one open version, the later write\'s', async () => {
    const sql = `insert into access_listings (scope, account_id, listing, state, credential, checked_at) values ('account:a2', 'a2', 'members', $1, 'default', $2)
      on conflict (scope, listing) do update set state = excluded.state, checked_at = excluded.checked_at`;
    const first = await db.pool.connect();
    try {
      await first.query('begin');
      await first.query(sql, ['forbidden', '2026-04-03T00:00:00Z']);
      // The second waits on the first's row (insert conflict) and writes after it commits.
      const second = db.pool.query(sql, ['complete', '2026-04-03T01:00:00Z']);
      await first.query('commit');
      await second;
    } finally {
      first.release();
    }
    const rows = await q(`select state, change, valid_to is null as open from access_listing_versions where scope = 'account:a2' order by valid_from, version_id`);
    expect(rows).toEqual([{ state: 'forbidden', change: 'created', open: false }, { state: 'complete', change: 'changed', open: true }]);
  });

  it('a deleted listing closes its version, a new row afterwards is restored', async () => {
    await q(`delete from access_listings where scope = 'account:a1' and listing = 'zones'`);
    expect((await history()).at(-1)![5]).toBe('deletion');
    expect(await q(`select count(*)::int as n from access_listing_versions where scope = 'account:a1' and valid_to is null`)).toEqual([{ n: 0 }]);
    await upsert('complete', '2026-04-02T00:00:00Z');
    expect((await history()).at(-1)!.slice(0, 2)).toEqual(['complete', 'restored']);
  });

  it('an update that leaves checked_at as it was is dated now (its transaction\'s time)', async () => {
    const client = await db.pool.connect();
    try {
      await client.query('begin');
      await client.query(`update access_listings set state = 'partial' where scope = 'account:a1' and listing = 'zones'`);
      const { rows: [v] } = await client.query(`select v.state, v.valid_from = now() as dated_now from access_listing_versions v
        where v.scope = 'account:a1' and v.listing = 'zones' and v.valid_to is null`);
      await client.query('commit');
      expect(v).toEqual({ state: 'partial', dated_now: true });
    } finally {
      client.release();
    }
  });
});
