import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exportAudit } from '../../src/archive/export.js';
import { importAudit } from '../../src/archive/import.js';
import { ARCHIVE_SOURCES, rowLine, storedDigest } from '../../src/archive/rows.js';
import { connectDatabase } from '../../src/db/client.js';
import { resourceEvents } from '../../src/db/queries/history.js';
import { runMigrations } from '../../src/db/migrate.js';
import { startSimulator } from '../../src/simulator/index.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { testContext } from '../helpers/context.js';
import type { TestDatabase } from '../helpers/database.js';
import { INVENTORY_KINDS } from '../helpers/inventory.js';
import { fillLegacyArchive, memberEventsAnyLayout } from '../helpers/legacy-archive.js';
import { databaseThrough, emptyDatabase } from '../helpers/upgrade.js';

// Migration 0023 on an archive written in 0022's layout (synced from the simulator: v2, account
// v1 and user logs, plus entries of odd shapes written straight into the old table): every entry
// comes out of the new layout as the same line (every column, the raw JSON byte for byte as jsonb
// prints it), each month's export digest is the one the old table gave, the views answer the same,
// and an export of the new layout imported into a fresh database loses and doubles nothing.

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  while (cleanups.length) await cleanups.pop()!();
});



// Entries the sync would not write but a table may hold (older versions, tools): columns that
// differ from the JSON, JSON values of other types, an entry that is not an object.
const ODD = `insert into audit_logs (source, id, event_time, account_id, account_name, action_type, action_result, actor_id, actor_email,
  actor_ip, actor_type, resource_type, resource_id, zone_id, zone_name, raw) values
  ('account_v2', 'odd-1', now() - interval '3 days', 'acc-col', 'Name', 'update', 'success', 'u', 'x@example.com', '192.0.2.1', 'user', 'dns', 'r',
   'z', 'z.example', '{"id": "odd-1", "account": {"id": "acc-json"}, "action": {"type": 7, "result": true, "time": "1999-01-01T00:00:00Z"}, "actor": {"email": "x@example.com", "token_id": null}, "zone": {}}'),
  ('account_v1', 'odd-2', now() - interval '4 days', null, null, null, null, null, null, null, null, null, null, null, null, '[1, 2.50, "x"]'),
  ('user_v1', 'odd-3', now() - interval '5 days', 'user-1', null, 'login', 'failure', 'u', 'x@example.com', null, null, null, null, null, null,
   '{"id": "odd-3", "owner": {"id": "user-1"}, "action": {"type": "login", "result": false}, "actor": {"id": "u", "email": "x@example.com"}, "big": 123456789012345678901234567890}')`;

/** Every entry as its export line, in key order. */
const lines = async (q: (t: string) => Promise<Array<Record<string, unknown>>>) =>
  (await q(`select ${rowLine('a')} as line from audit_logs a order by source, id, event_time`)).map((r) => String(r.line));

describe('upgrading an archive to migration 0023 (the compact layout)', () => {
  it('keeps every entry, column and digest, and the views answer the same', async () => {
    const sim = await startSimulator({ seed: 23, size: { accounts: 2, membersPerAccount: 6, accountTokensPerAccount: 3, userTokens: 3, accountAuditEntries: 1500, accountAuditV1Entries: 300, userAuditEntries: 200, auditDays: 70 }, rateLimit: false });
    cleanups.push(() => sim.close());
    const { url, database } = await databaseThrough(22, cleanups);
    const ctx = testContext({ db: database.db, pool: database.pool, url } as TestDatabase, sim, { LOG_LEVEL: 'warn' });
    const synced = await syncAll(ctx, { streams: [...INVENTORY_KINDS] });
    expect(synced.filter((o) => o.status === 'failed').map((o) => o.stream)).toEqual([]);
    // The archive as the old layout held it (this version's sync writes through 0023's functions).
    const accountIds = (await database.pool.query(`select id from accounts order by id`)).rows.map((r) => String(r.id));
    expect(await fillLegacyArchive(database.pool, sim, accountIds)).toBeGreaterThan(1000);
    const q = async (text: string, params: unknown[] = []) => (await database.pool.query(text, params)).rows;
    await q(ODD);

    const sources = (await q(`select source, count(*)::int as n from audit_logs group by 1 order by 1`));
    expect(sources.map((r) => r.source)).toEqual([...ARCHIVE_SOURCES].sort());
    const months = (await q(`select distinct to_char(event_time at time zone 'UTC', 'YYYY-MM-01') as m from audit_logs order by 1`)).map((r) => String(r.m));
    const digests = async () => Promise.all(months.flatMap((m) => ARCHIVE_SOURCES.map((s) => storedDigest(database.db, s, m))));
    const members = await q(`select id, account_id, email from account_members where email is not null order by id`);
    // Member events as the old archive held them: one naming the member by id, one (an invitation) only by e-mail.
    for (const [i, m] of members.slice(0, 3).entries()) {
      const at = new Date(Date.now() - (i + 2) * 86_400_000).toISOString();
      for (const [n, rid, email] of [[1, m.id, null], [2, null, String(m.email).toUpperCase()]] as const) {
        await q(`insert into audit_logs (source, id, event_time, account_id, action_type, action_result, actor_email, resource_type, resource_id, raw)
                 values ('account_v2', $1, $2, $3, 'member.add', 'success', 'owner@example.com', 'member', $4, $5)`,
          [`up23-${i}-${n}`, at, m.account_id, rid, JSON.stringify({ id: `up23-${i}-${n}`, resource: { type: 'member', id: rid, request: email ? { email } : {} } })]);
      }
    }
    const eventsOf = () => Promise.all(members.map((m) => memberEventsAnyLayout(database.pool, m)));
    const historyOf = () => Promise.all(members.map(async (m) => (await resourceEvents(database.db, { ids: [m.id], typeLike: 'member', emails: [{ accountId: m.account_id, email: m.email }] })).map((e) => `${e.source}:${e.id}`)));
    const views = async () => ({
      events: await q(`select source, id, event_time, sources from audit_events order by source, id, event_time`),
      invitations: await q(`select * from pending_invitations order by key`),
      coverage: await q(`select * from audit_v2_coverage order by stream`),
    });
    const before = { lines: await lines(q), digests: await digests(), events: await eventsOf(), views: await views() };
    expect(before.lines.length).toBeGreaterThan(2000);
    expect(before.events.slice(0, 3).map((e) => e.length)).toEqual([2, 2, 2]);

    await runMigrations(url);

    expect(await q(`select count(*)::int as n from pg_class where relname = 'audit_logs_0022'`)).toEqual([{ n: 0 }]);
    expect((await q(`select relkind from pg_class where relname = 'audit_logs'`))[0].relkind).toBe('v');
    // Each month's partition is back under its old name (retention lists and drops them by it).
    const parts = (await q(`select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'audit_entries'::regclass`)).map((r) => r.relname);
    for (const m of months) expect(parts).toContain(`audit_logs_y${m.slice(0, 4)}m${m.slice(5, 7)}`);
    const after = await lines(q);
    expect(after.length).toBe(before.lines.length);
    for (const [i, line] of after.entries()) expect(line).toBe(before.lines[i]);
    expect(await digests()).toEqual(before.digests);
    expect(await eventsOf()).toEqual(before.events);
    // `history member` (reading the new subject_email column) finds the same events the old query found.
    expect(await historyOf()).toEqual(before.events.map((es) => es.map((l) => l.split(':').slice(0, 2).join(':'))));
    expect(await views()).toEqual(before.views);

    // Export of the new layout, imported into a fresh database: the same lines, nothing doubled.
    const out = mkdtempSync(join(tmpdir(), 'fw-up23-'));
    cleanups.push(async () => rmSync(out, { recursive: true, force: true }));
    const exported = await exportAudit({ ...ctx, now: () => new Date(Date.now() + 400 * 86_400_000) }, { out, months: [] });
    const byKey = new Map(before.digests.map((d, i) => [`${months[Math.floor(i / ARCHIVE_SOURCES.length)]!.slice(0, 7)} ${ARCHIVE_SOURCES[i % ARCHIVE_SOURCES.length]}`, d]));
    for (const f of exported.files) expect([f.month, f.source, f.rows, f.rowsSha256]).toEqual([f.month, f.source, byKey.get(`${f.month} ${f.source}`)!.rows, byKey.get(`${f.month} ${f.source}`)!.sha256]);
    expect(exported.files.reduce((s, f) => s + f.rows, 0)).toBe(before.lines.length);
    const freshUrl = await emptyDatabase(cleanups);
    await runMigrations(freshUrl);
    const fresh = connectDatabase(freshUrl, 2);
    cleanups.push(() => fresh.close());
    const freshCtx = testContext({ db: fresh.db, pool: fresh.pool, url: freshUrl } as TestDatabase, sim, { LOG_LEVEL: 'warn' });
    const imported = await importAudit(freshCtx, exported.manifest);
    expect(imported.reduce((s, f) => s + f.inserted, 0)).toBe(before.lines.length);
    expect(imported.every((f) => f.differing === 0)).toBe(true);
    expect(await lines(async (t) => (await fresh.pool.query(t)).rows)).toEqual(before.lines);
    expect((await importAudit(freshCtx, exported.manifest)).reduce((s, f) => s + f.inserted, 0)).toBe(0);
  }, 300_000);
});
