// A round in which nothing changed writes only its run records. The accounts walk recorded what each
// credential reaches by rewriting every account_access row twice per walk (its page, then its
// settlement), so a 1,000-account organisation rewrote 2,000 rows a round for nothing (the round
// bench). Like every snapshot row, an unchanged one is refreshed only past sync.lastSeenResolution.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { testContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;
let sim: Simulator;

beforeAll(async () => {
  sim = await startSimulator({ seed: 41, size: { accounts: 3 }, rateLimit: false });
  db = await createTestDatabase();
});
afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

/** Each access row's physical version (xmin changes whenever the row is rewritten) and state. */
async function accessRows() {
  const res = await db.pool.query<{ account_id: string; xmin: string; last_seen_at: string; deleted_at: string | null }>(
    `select account_id, xmin::text, last_seen_at::text, deleted_at::text from account_access order by account_id`);
  return res.rows;
}

async function walkAccounts(env: Record<string, string> = {}) {
  const outcomes = await syncAll(testContext(db, sim, env), { streams: ['accounts'] });
  expect(outcomes.map((o) => o.status)).toEqual(['succeeded']);
}

describe('account_access in a round with nothing new', () => {
  it('a second walk of the same accounts rewrites no access row', async () => {
    await walkAccounts();
    const first = await accessRows();
    expect(first).toHaveLength(3);
    await walkAccounts();
    expect(await accessRows()).toEqual(first);
  });

  it('an access row ended earlier comes back at once, within the resolution', async () => {
    const [row] = await accessRows();
    await db.pool.query(`update account_access set deleted_at = now(), deleted_reason = 'test' where account_id = $1`, [row!.account_id]);
    await walkAccounts();
    const after = (await accessRows()).find((r) => r.account_id === row!.account_id)!;
    expect(after.deleted_at).toBeNull();
  });

  it('past sync.lastSeenResolution the rows are refreshed (last_seen_at moves)', async () => {
    const before = await accessRows();
    await walkAccounts({ FLAREWATCH_LAST_SEEN_RESOLUTION: '0s' });
    const after = await accessRows();
    for (const [i, r] of after.entries()) expect(Date.parse(r.last_seen_at)).toBeGreaterThan(Date.parse(before[i]!.last_seen_at));
  });
});
