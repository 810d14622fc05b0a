// The archive's write path (insertAuditEntries): a page is COPYed into a staging table and written
// into audit_entries by one set-based insert; what is already there, or arrives twice in one page, is written once; and a second
// writer archiving the same entries at the same moment loses nothing and doubles nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertAuditEntries } from '../../src/db/queries/audit-logs.js';
import { ensureAuditPartitions, monthOf } from '../../src/db/queries/audit-partitions.js';
import type { AuditLogRow } from '../../src/db/schema/audit-logs.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;
const T0 = Date.parse('2030-03-01T12:00:00Z');

const entry = (id: string, secondsAfter: number, note = 'first'): AuditLogRow => ({
  source: 'account_v2', id, eventTime: new Date(T0 + secondsAfter * 1000), accountId: 'acc', accountName: null, actionType: 'update',
  actionResult: 'success', actionDescription: null, actorId: null, actorEmail: 'a@example.com', actorIp: null, actorType: 'user',
  actorContext: null, actorTokenId: null, actorTokenName: null, interface: null, resourceType: 'zone', resourceId: 'z', resourceProduct: null,
  resourceScope: null, zoneId: null, zoneName: null, raw: { id, note }, archivedAt: new Date(),
});
const page = (from: number, n: number) => Array.from({ length: n }, (_, i) => entry(`e${from + i}`, from + i));
const stored = async () => (await db.pool.query(`select id, event_time, raw ->> 'note' as note from audit_logs order by event_time, id`)).rows;

beforeAll(async () => {
  db = await createTestDatabase();
  await ensureAuditPartitions(db.db, new Set([monthOf(new Date(T0 - 40 * 86_400_000)), monthOf(new Date(T0))]));
});
afterAll(async () => db?.drop());

describe('archiving a page', () => {
  it('writes what is new once: entries already archived and repeats inside the page are skipped, the first copy kept', async () => {
    await db.pool.query('truncate audit_entries');
    expect(await db.db.transaction((tx) => insertAuditEntries(tx, page(0, 50)))).toBe(50);
    // An overlap with the page before, a repeat inside the page (a later copy), the same id at another time (another entry).
    const next = [...page(40, 20), entry('e45', 45, 'repeat'), entry('e50', 50, 'repeat'), entry('e1', -86_400 * 35)];
    expect(await db.db.transaction((tx) => insertAuditEntries(tx, next))).toBe(11);
    const rows = await stored();
    expect(rows).toHaveLength(61);
    expect(rows.filter((r) => r.note === 'repeat')).toEqual([]);
    expect(rows.filter((r) => r.id === 'e1')).toHaveLength(2);
    expect(await db.db.transaction((tx) => insertAuditEntries(tx, next))).toBe(0);
  });

  it('two writers of the same entries at once: the second waits, finds them archived, and inserts none (no error, no double)', async () => {
    await db.pool.query('truncate audit_entries');
    const entries = page(100, 30);
    const first = await db.pool.connect();
    try {
      // The first writer has inserted the page but not committed: the second cannot see it yet.
      await first.query('begin');
      await first.query(`insert into audit_logs (source, id, event_time, account_id, raw) select 'account_v2', 'e' || i, $1::timestamptz + make_interval(secs => i - 100), 'acc', '{}' from generate_series(100, 129) i`, [new Date(T0 + 100_000)]);
      const second = db.db.transaction((tx) => insertAuditEntries(tx, entries));
      // The second writer waits on the first's uncommitted keys (its account's lookup row, then its entries).
      await expect.poll(async () => (await db.pool.query(`select count(*)::int as n from pg_locks where not granted`)).rows[0].n, { timeout: 10_000 }).toBeGreaterThan(0);
      await first.query('commit');
      expect(await second).toBe(0);
    } finally {
      first.release();
    }
    expect(await stored()).toHaveLength(30);
  });
});
