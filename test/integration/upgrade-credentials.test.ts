import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../src/db/migrate.js';
import { connectDatabase } from '../../src/db/client.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { testContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { INVENTORY_KINDS, INVENTORY_TABLES } from '../helpers/inventory.js';
import { outcomeOf, succeeded } from '../helpers/audit.js';
import { emptyDatabase as emptyDatabaseAt, migrationsThrough } from '../helpers/upgrade.js';

// A database written by the single-credential release upgrades in place: its checkpoints carry
// over under the new stream names, user-owned rows learn their owner, and the first walks after
// the upgrade mark nothing deleted and re-walk nothing from scratch.

const T0 = Date.parse('2026-03-01T00:00:00Z');
const OLD_STREAMS = ['user', 'accounts', 'user-tokens', 'user-invites', 'user-organizations', 'user-subscriptions', 'billing-history', 'ip-access-rules', 'user-audit'];
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** The migrations as they were released before credentials (0000–0005). */
const releasedMigrations = () => migrationsThrough(5, cleanups);

async function emptyDatabase(): Promise<{ url: string; pool: pg.Pool }> {
  const url = await emptyDatabaseAt(cleanups);
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  cleanups.push(() => pool.end());
  return { url, pool };
}

describe('upgrading a single-credential database', () => {
  it('carries checkpoints over, records owners, and the next walks mark nothing deleted', async () => {
    const sim: Simulator = await startSimulator({ seed: 61, size: { accounts: 2, userTokens: 60, membersPerAccount: 8, userAuditEntries: 300, auditDays: 3 }, rateLimit: false, now: () => T0 });
    cleanups.push(() => sim.close());
    // What the released code stored, reproduced: the same walks, then the rows as its schema held them.
    const scratch: TestDatabase = await createTestDatabase();
    cleanups.push(() => scratch.drop());
    const ctx = testContext(scratch, sim, { LOG_LEVEL: 'warn' });
    ctx.now = () => new Date(T0 + 3 * 60_000);
    const first = await syncAll(ctx, { streams: [...INVENTORY_KINDS, 'user-audit'] });
    expect(first.filter((o) => o.status !== 'succeeded')).toEqual([]);

    const old = await emptyDatabase();
    await runMigrations(old.url, { migrationsFolder: releasedMigrations() });
    for (const table of [...Object.keys(INVENTORY_TABLES), 'sync_state']) {
      const { rows } = await scratch.pool.query<{ j: Record<string, unknown> }>(`select row_to_json(t) as j from ${table} t`);
      for (const { j } of rows) {
        if (table === 'sync_state' && typeof j.stream === 'string') j.stream = j.stream.replace(/:default$/, '');
        // json_populate_record keeps only the columns the released schema had.
        await old.pool.query(`insert into ${table} select * from json_populate_record(null::${table}, $1::json)`, [JSON.stringify(j)]);
      }
    }
    const before = (await old.pool.query(`select stream, checkpoint from sync_state order by stream`)).rows;
    expect(before.map((r) => r.stream)).toEqual(expect.arrayContaining(OLD_STREAMS));

    // The upgrade.
    await runMigrations(old.url);
    const after = (await old.pool.query(`select stream, checkpoint from sync_state order by stream`)).rows;
    for (const s of OLD_STREAMS) {
      expect(after.find((r) => r.stream === s), s).toBeUndefined();
      expect(after.find((r) => r.stream === `${s}:default`)?.checkpoint, s).toEqual(before.find((r) => r.stream === s)?.checkpoint);
    }
    const userId = sim.world.user.id;
    const owners = (await old.pool.query(`select distinct user_id from api_tokens where owner_type = 'user'`)).rows;
    expect(owners).toEqual([{ user_id: userId }]);
    const access = (await old.pool.query(`select credential, account_id from account_access order by account_id`)).rows;
    expect(access).toEqual(sim.world.accounts.map((a) => ({ credential: 'default', account_id: a.id })).sort((a, b) => a.account_id.localeCompare(b.account_id)));

    // The first walks after it: nothing deleted, the audit log resumed from its watermark (one request).
    const database = connectDatabase(old.url, 5);
    cleanups.push(() => database.close());
    const upgraded = testContext({ ...scratch, db: database.db, pool: database.pool, url: old.url }, sim, { LOG_LEVEL: 'warn' });
    upgraded.now = () => new Date(T0 + 6 * 60_000);
    sim.stats.reset();
    const next = await syncAll(upgraded, { streams: [...INVENTORY_KINDS, 'user-audit'] });
    expect(next.filter((o) => o.status !== 'succeeded')).toEqual([]);
    expect((await old.pool.query(`select count(*)::int as n from sync_runs where rows_marked_deleted > 0`)).rows[0].n).toBe(0);
    for (const table of Object.keys(INVENTORY_TABLES)) {
      expect((await old.pool.query(`select count(*)::int as n from ${table} where deleted_at is not null`)).rows[0].n, table).toBe(0);
    }
    expect(succeeded(outcomeOf(next, 'user-audit:default')).counts.requests).toBe(1);
    expect(sim.stats.log.filter((l) => l.route === 'GET /user/audit_logs').map((l) => l.query.since)).toEqual([new Date(T0 + 60_000 - 10 * 60_000).toISOString()]);
  });
});
