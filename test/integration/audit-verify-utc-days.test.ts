import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { archivedPerDay, compareDay } from '../../src/db/queries/audit-verifications.js';
import { ensureAuditPartitions } from '../../src/db/queries/audit-partitions.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

// `audit verify` compares the archive with the API one UTC day at a time. Its day bounds were
// `'YYYY-MM-DD'::date`, midnight in the database session's time zone: on a server not in UTC an
// entry late in a UTC day was counted in the next day's window (and a day's query planned every
// month partition, since a date compared with a timestamptz cannot prune at plan time).

let db: TestDatabase;
const stream = { source: 'account_v2' as const, accountId: 'acc-utc' };

async function entry(id: string, at: string): Promise<void> {
  await db.pool.query(
    `insert into audit_logs (source, id, event_time, account_id, action_type, resource_type, resource_id, raw)
     values ('account_v2', $1, $2, 'acc-utc', 'zone.update', 'zone', 'res', $3)`,
    [id, at, JSON.stringify({ id, when: at })]);
}

beforeAll(async () => {
  db = await createTestDatabase();
  await ensureAuditPartitions(db.db, ['2026-09-01', '2026-10-01', '2026-11-01']);
  await entry('first-minute', '2026-10-14T00:00:00.000Z');
  await entry('late-evening', '2026-10-14T23:30:00.000Z');
  await entry('next-day', '2026-10-15T00:30:00.000Z');
  await entry('month-edge', '2026-10-31T23:59:59.999Z');
});

afterAll(async () => {
  await db?.drop();
});

describe('audit verify counts UTC days whatever the session time zone', () => {
  it.each(['UTC', 'Pacific/Auckland', 'America/Los_Angeles'])('per day and one day compared, in %s', async (zone) => {
    await db.db.transaction(async (tx) => {
      await tx.execute(sql.raw(`set local time zone '${zone}'`));
      const perDay = await archivedPerDay(tx, stream, '2026-10-14', '2026-11-01');
      expect(Object.fromEntries(perDay)).toEqual({ '2026-10-14': 2, '2026-10-15': 1, '2026-10-31': 1 });
      const day = await compareDay(tx, stream, '2026-10-14', ['first-minute', 'late-evening', 'next-day', 'absent']);
      expect(day).toEqual({ archived: 2, missing: ['absent', 'next-day'] });
      expect(await compareDay(tx, stream, '2026-10-31', ['month-edge'])).toEqual({ archived: 1, missing: [] });
    });
  });
});
