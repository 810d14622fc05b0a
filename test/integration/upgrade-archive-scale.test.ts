import { afterAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../src/db/migrate.js';
import { startSimulator } from '../../src/simulator/index.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { testContext } from '../helpers/context.js';
import type { TestDatabase } from '../helpers/database.js';
import { INVENTORY_KINDS } from '../helpers/inventory.js';
import { fillLegacyArchive, memberEventsAnyLayout } from '../helpers/legacy-archive.js';
import { databaseThrough, migrationsThrough } from '../helpers/upgrade.js';

// Migration 0022 on a database written before it (an archive and an inventory already stored): the
// new index is built on every existing partition, and the access model and `history member`'s
// events are the same rows after the upgrade as before it.

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!();
});



describe('upgrading an archive to migration 0022', () => {
  it('indexes every existing partition and changes no answer', async () => {
    const sim = await startSimulator({ seed: 27, size: { accounts: 2, membersPerAccount: 8, accountTokensPerAccount: 3, userTokens: 4, accountAuditEntries: 3000, accountAuditV1Entries: 200, auditDays: 60 }, rateLimit: false });
    cleanups.push(() => sim.close());
    const { url, database } = await databaseThrough(21, cleanups);
    const ctx = testContext({ db: database.db, pool: database.pool, url } as TestDatabase, sim, { LOG_LEVEL: 'warn' });
    const synced = await syncAll(ctx, { streams: [...INVENTORY_KINDS] });
    expect(synced.filter((o) => o.status === 'failed').map((o) => o.stream)).toEqual([]);
    // The archive as the old layout held it (this version's sync writes through 0023's functions).
    const accountIds = (await database.pool.query(`select id from accounts order by id`)).rows.map((r) => String(r.id));
    expect(await fillLegacyArchive(database.pool, sim, accountIds)).toBeGreaterThan(1000);

    const q = async (text: string, params: unknown[] = []) => (await database.pool.query(text, params)).rows;
    const partitions = (await q(`select count(*)::int as n from pg_inherits where inhparent = 'audit_logs'::regclass`))[0].n as number;
    expect(partitions).toBeGreaterThan(2);
    expect((await q(`select count(*)::int as n from audit_logs`))[0].n).toBeGreaterThan(3000);
    const members = await q(`select id, account_id, email from account_members where email is not null order by id`);
    // Member events as the archive holds them: one naming the member by id, one (an invitation) only by email.
    for (const [i, m] of members.slice(0, 3).entries()) {
      const at = new Date(Date.now() - (i + 2) * 86_400_000).toISOString();
      for (const [n, rid, email] of [[1, m.id, null], [2, null, String(m.email).toUpperCase()]] as const) {
        await q(`insert into audit_logs (source, id, event_time, account_id, action_type, action_result, actor_email, resource_type, resource_id, raw)
                 values ('account_v2', $1, $2, $3, 'member.add', 'success', 'owner@example.com', 'member', $4, $5)`,
          [`up27-${i}-${n}`, at, m.account_id, rid, JSON.stringify({ id: `up27-${i}-${n}`, resource: { type: 'member', id: rid, request: email ? { email } : {} } })]);
      }
    }
    // `history member`'s query as it was (this version's reads 0023's column): the same on 0021 and 0022.
    const eventsOf = () => Promise.all(members.map((m) => memberEventsAnyLayout(database.pool, m)));
    const model = async () => (await q(`select * from effective_access`)).map((r) => JSON.stringify(r)).sort();
    const [eventsBefore, modelBefore] = [await eventsOf(), await model()];
    expect(eventsBefore.slice(0, 3).map((e) => e.length)).toEqual([2, 2, 2]);
    expect(modelBefore.length).toBeGreaterThan(0);

    // Up to 0022 only: 0023 moves the archive into another layout (upgrade-audit-compact tests that).
    await runMigrations(url, { migrationsFolder: migrationsThrough(22, cleanups) });

    const built = await q(`
      select count(*)::int as n from pg_inherits i join pg_index x on x.indexrelid = i.inhrelid
      where i.inhparent = 'audit_logs_subject_email_idx'::regclass and x.indisvalid`);
    expect(built[0].n).toBe(partitions);
    expect(await eventsOf()).toEqual(eventsBefore);
    expect(await model()).toEqual(modelBefore);
  }, 240_000);
});
