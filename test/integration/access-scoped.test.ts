import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { whoCan } from '../../src/access/who-can.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { ACCOUNT_KEY, accessRows, tokenPolicy, ZONE_KEY } from '../helpers/access-rows.js';
import { testContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { INVENTORY_KINDS } from '../helpers/inventory.js';

// Migration 0022: the access model narrowed to one account must give exactly the rows of the whole
// model in that account, now and at an instant, and `access who-can --account` (which reads it)
// the same answer as before, whatever path grants the access.

/** Every row of the model in `account`: the whole model filtered, and the model narrowed to it. */
async function bothWays(db: TestDatabase, account: string, at: string | null) {
  const rows = async (from: string) =>
    (await db.pool.query<Record<string, unknown>>(`select * from ${from}`, [at, account])).rows.map((r) => JSON.stringify(r)).sort();
  const whole = await rows(`flarewatch_access_model($1::timestamptz, true) where account_id = $2`);
  const scoped = await rows(`flarewatch_access_model($1::timestamptz, true, $2::text)`);
  return { whole, scoped };
}

describe('hand-built world: every path, and tokens of one account that reach another', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
    const w = accessRows(db.pool);
    for (const a of ['acme', 'beta']) await w.account(a, a.toUpperCase());
    await w.zone('z1', 'acme', 'example.com');
    await w.zone('z2', 'acme', 'other.com');
    await w.zone('z3', 'beta', 'beta.com');
    await w.completeListings(['acme', 'beta']);
    await w.member({ id: 'm-alice', account: 'acme', email: 'alice@example.com', userId: 'u-alice', roles: ['DNS'] });
    await w.member({ id: 'm-alice-b', account: 'beta', email: 'alice@example.com', userId: 'u-alice', roles: ['Analytics'] });
    await w.member({ id: 'm-bob', account: 'acme', email: 'bob@example.com' });
    await w.group({ id: 'g-platform', account: 'acme', name: 'Platform', policies: [{ id: '3', groups: ['DNS'], resources: [{ zones: ['z1'] }] }] });
    await w.groupMember('g-platform', 'm-bob', 'acme');
    await w.member({ id: 'm-dave', account: 'beta', email: 'dave@example.com', userId: 'u-dave', policies: [{ id: 'p-dave', groups: ['DNS'] }] });
    await w.group({ id: 'g-nodns', account: 'beta', name: 'No DNS', policies: [{ id: '7', access: 'deny', groups: ['DNS'] }] });
    await w.groupMember('g-nodns', 'm-dave', 'beta');
    await w.member({ id: 'm-pending', account: 'beta', email: 'pending@example.com', status: 'pending', roles: ['Administrator'] });
    await w.organization({ id: 'org1', accounts: ['acme', 'beta'], members: [{ id: 'om-carol', userId: 'u-carol', email: 'carol@example.com' }] });
    // alice's user tokens: every account (placed through her memberships), one zone, one account.
    await w.token({ id: 't-all', name: 'all', ownerType: 'user', userId: 'u-alice', policies: [tokenPolicy('tp1', ['DNS Write'], { 'com.cloudflare.api.account.*': '*' })] });
    await w.token({ id: 't-zone', name: 'zone', ownerType: 'user', userId: 'u-alice', policies: [tokenPolicy('tp2', ['DNS Write'], { [ZONE_KEY('z3')]: '*' })] });
    await w.token({ id: 't-acct', name: 'acct', ownerType: 'user', userId: 'u-alice', policies: [tokenPolicy('tp3', ['Zone Read'], { [ACCOUNT_KEY('beta')]: '*' })] });
    // Account tokens: beta's own; two of beta's that name acme (its account, one of its zones); an expired one.
    await w.token({ id: 't-beta', name: 'beta own', ownerType: 'account', account: 'beta', policies: [tokenPolicy('tp4', ['DNS Write'], { [ACCOUNT_KEY('beta')]: '*' })] });
    await w.token({ id: 't-x-acct', name: 'beta names acme', ownerType: 'account', account: 'beta', policies: [tokenPolicy('tp5', ['DNS Write'], { [ACCOUNT_KEY('acme')]: '*' })] });
    await w.token({ id: 't-x-zone', name: 'beta names z2', ownerType: 'account', account: 'beta', policies: [tokenPolicy('tp6', ['DNS Write'], { [ZONE_KEY('z2')]: '*' }, 'deny'), tokenPolicy('tp7', ['Zone Read'], { [ZONE_KEY('z2')]: '*' })] });
    await w.token({ id: 't-revoked', name: 'revoked', ownerType: 'account', account: 'acme', status: 'disabled', policies: [tokenPolicy('tp8', ['DNS Write'], { [ACCOUNT_KEY('acme')]: '*' })] });
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('gives, for each account, exactly the rows of the whole model in it', async () => {
    for (const account of ['acme', 'beta']) {
      const { whole, scoped } = await bothWays(db, account, null);
      expect(whole.length).toBeGreaterThan(5);
      expect(scoped).toEqual(whole);
    }
    // The tokens of beta that name acme are in acme's model: the case the token filter must keep.
    const { scoped } = await bothWays(db, 'acme', null);
    expect(scoped.filter((r) => r.includes('"t-x-acct"') || r.includes('"t-x-zone"')).length).toBe(3);
  });

  it('gives members the same rows without tokens (effective_member_access, which review start reads)', async () => {
    const rows = async (text: string) => (await db.pool.query(text)).rows.map((r) => JSON.stringify(r)).sort();
    const all = await rows(`select * from effective_access where principal_type = 'member'`);
    expect(all.length).toBeGreaterThan(5);
    expect(await rows(`select * from effective_member_access`)).toEqual(all);
  });

  it('answers who-can --account and --zone as the whole model does', async () => {
    const zone = await whoCan(db.db, { permission: 'dns:edit', zone: 'example.com' });
    expect(zone.rows.map((r) => `${r.principal} ${r.path}`).sort()).toEqual(
      ['alice@example.com role', 'all token', 'beta names acme token', 'bob@example.com group', 'carol@example.com organization'],
    );
    const beta = await whoCan(db.db, { permission: 'dns:edit', account: 'beta' });
    expect(beta.rows.map((r) => `${r.principal} ${r.path}`).sort()).toEqual(['beta own token', 'carol@example.com organization']);
  });
});

describe('a synced simulator world, now and at an instant before a change', () => {
  let db: TestDatabase;
  let sim: Simulator;
  let before: string;
  beforeAll(async () => {
    db = await createTestDatabase();
    sim = await startSimulator({ seed: 5, size: { accounts: 3, membersPerAccount: 6, accountTokensPerAccount: 4, userTokens: 6, users: 2 } });
    const ctx = testContext(db, sim, { LOG_LEVEL: 'warn' });
    const sync = async () => {
      const outcomes = await syncAll(ctx, { streams: INVENTORY_KINDS });
      expect(outcomes.filter((o) => o.status === 'failed').map((o) => o.stream)).toEqual([]);
    };
    await sync();
    before = new Date().toISOString();
    const [a0] = sim.world.accounts;
    sim.world.removeMember(a0!.id, sim.world.members(a0!.id).at(-1)!.id);
    sim.world.removeToken(sim.world.accountTokens(a0!.id)[0]!.id);
    await sync();
  }, 120_000);
  afterAll(async () => {
    await sim?.close();
    await db?.drop();
  });

  it('gives the same rows per account now and at the earlier instant', async () => {
    for (const a of sim.world.accounts) {
      for (const at of [null, before]) {
        const { whole, scoped } = await bothWays(db, a.id, at);
        expect(whole.length).toBeGreaterThan(0);
        expect(scoped).toEqual(whole);
      }
    }
    // The instant is before the change: the removed member and token are in its rows, not in now's.
    const a0 = sim.world.accounts[0]!.id;
    expect((await bothWays(db, a0, before)).scoped.length).toBeGreaterThan((await bothWays(db, a0, null)).scoped.length);
  });
});
