import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessRows, tokenPolicy, ZONE_KEY } from '../helpers/access-rows.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { oldDefinition } from '../helpers/old-definition.js';

// Migration 0022 replaces flarewatch_access_model so that each account's access picture is worked
// out once per call, not once per grant. The rows must be exactly those of the 0017 definition:
// it is installed beside the new one under another name, and both are read over a world with
// complete, partial and unsynced accounts, every member path, deny, and user and account tokens.

let db: TestDatabase;

const modelOf0017 = () =>
  oldDefinition('0017_access_model', 'function', 'CREATE FUNCTION flarewatch_access_model(', 'CREATE FUNCTION flarewatch_access_model_0017(');

beforeAll(async () => {
  db = await createTestDatabase();
  await db.pool.query(modelOf0017());
  const w = accessRows(db.pool);
  for (const [id, name] of [['acme', 'Acme'], ['beta', 'Beta'], ['gamma', 'Gamma']] as const) await w.account(id, name);
  await w.zone('z1', 'acme', 'example.com');
  await w.zone('z2', 'beta', 'beta.com');
  // acme's picture is complete, beta's partial (a listing failed), gamma never synced.
  await w.completeListings(['acme', 'beta']);
  await w.listing('account:beta', 'user-group-members', 'partial', 'HTTP 403');
  for (const a of ['acme', 'beta', 'gamma']) {
    await w.member({ id: `m-alice-${a}`, account: a, email: 'alice@example.com', userId: 'u-alice', roles: ['Administrator'] });
    await w.member({ id: `m-bob-${a}`, account: a, email: 'bob@example.com', userId: 'u-bob', policies: [{ id: `p-bob-${a}`, groups: ['DNS'], resources: [{ zones: ['z1'] }] }] });
    await w.member({ id: `m-pending-${a}`, account: a, email: 'new@example.com', status: 'pending', roles: ['Super Administrator - All Privileges'] });
    await w.group({ id: `g-ops-${a}`, account: a, name: 'Ops', policies: [{ id: '1', groups: ['DNS', 'Firewall'] }, { id: '2', access: 'deny', groups: ['Firewall'] }] });
    await w.groupMember(`g-ops-${a}`, `m-bob-${a}`, a);
    await w.groupMember(`g-ops-${a}`, `m-ghost-${a}`, a, 'ghost@example.com');
  }
  await w.organization({ id: 'org1', accounts: ['acme', 'gamma'], members: [{ id: 'om-carol', userId: 'u-carol', email: 'carol@example.com' }, { id: 'om-alice', userId: 'u-alice', email: 'alice@example.com' }] });
  await w.token({ id: 't-bob', name: 'bob-dns', ownerType: 'user', userId: 'u-bob', policies: [tokenPolicy('tp1', ['DNS Write', 'Billing Write'], { [ZONE_KEY('z1')]: '*' })] });
  await w.token({ id: 't-alice', name: 'alice-all', ownerType: 'user', userId: 'u-alice', policies: [tokenPolicy('tp2', ['Zone Write'], { 'com.cloudflare.api.account.zone.*': '*' })] });
  await w.token({ id: 't-beta', name: 'beta-ci', ownerType: 'account', account: 'beta', policies: [tokenPolicy('tp3', ['DNS Write'], { 'com.cloudflare.api.account.beta': '*' })] });
  await w.token({ id: 't-gone', name: 'expired', ownerType: 'user', userId: 'u-nobody', status: 'expired', policies: [tokenPolicy('tp4', ['DNS Read'], { 'com.cloudflare.api.account.*': '*' })] });
});

afterAll(async () => {
  await db?.drop();
});

/** Every row of a model call, as sorted text. */
async function rowsOf(fn: string, args: string): Promise<string[]> {
  return (await db.pool.query<{ r: string }>(`select m::text as r from ${fn}(${args}) m`)).rows.map((x) => x.r).sort();
}

describe('flarewatch_access_model (0022) against its 0017 definition', () => {
  for (const [label, args] of [['with tokens', 'null, true'], ['members only', 'null, false']] as const) {
    it(`returns the same rows, ${label}`, async () => {
      const now = await rowsOf('flarewatch_access_model', args);
      expect(now.length).toBeGreaterThan(20);
      expect(now).toEqual(await rowsOf('flarewatch_access_model_0017', args));
    });
  }

  it('is the 0022 definition that runs (the pictures worked out once)', async () => {
    // The two-argument model delegates to the account-scoped one, which holds the body.
    const src = (await db.pool.query<{ args: number; src: string }>(
      `select pronargs as args, prosrc as src from pg_proc where proname = 'flarewatch_access_model' order by pronargs`)).rows;
    expect(src.map((r) => r.args)).toEqual([2, 3]);
    expect(src[0]!.src).toContain('flarewatch_access_model(instant, with_tokens, NULL::text)');
    expect(src[1]!.src).toContain('pictures AS MATERIALIZED');
    expect(src[1]!.src).not.toContain('JOIN access_pictures');
  });

  it('the world exercises every picture: complete, partial and not synced', async () => {
    const rows = (await db.pool.query<{ complete: boolean; missing: string[] }>(
      'select distinct picture_complete as complete, picture_missing as missing from flarewatch_access_model(null, true)')).rows;
    expect(rows.some((r) => r.complete)).toBe(true);
    expect(rows.some((r) => r.missing.some((m) => m.includes('partial')))).toBe(true);
    expect(rows.some((r) => r.missing.includes('account not synced') || r.missing.some((m) => m.includes('not synced')))).toBe(true);
  });
});
