import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessRow } from '../../src/access/rows.js';
import { accessOfCommand, whoCanCommand } from '../../src/commands/access.js';
import { reviewDiffCommand } from '../../src/commands/review-diff.js';
import { startReview } from '../../src/review/start.js';
import { loadConfig } from '../../src/config.js';
import { itemsOf } from '../../src/db/queries/reviews.js';
import { accessRows, type AccessRows } from '../helpers/access-rows.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

// A review before and after a member joins a user group: the review freezes effective access per
// path, review diff shows the path that appeared, and effective_access_at between the two answers
// with the older picture. The access commands print the path in words and name an incomplete picture.

let db: TestDatabase;
let w: AccessRows;
const T1 = new Date('2026-11-01T10:00:00Z');
const JOINED = new Date('2026-11-02T10:00:00Z');
const T2 = new Date('2026-11-03T10:00:00Z');
const ctxAt = (now: Date) => ({ db: db.db, config: loadConfig({ DATABASE_URL: db.url }, {}), now: () => now });

beforeAll(async () => {
  db = await createTestDatabase();
  w = accessRows(db.pool);
  await w.account('acme', 'Acme');
  await w.zone('z1', 'acme', 'example.com');
  await w.completeListings(['acme']);
  await w.member({ id: 'm-alice', account: 'acme', email: 'alice@example.com', roles: ['DNS'] });
  await w.member({ id: 'm-bob', account: 'acme', email: 'bob@example.com', roles: ['Analytics'] });
  await w.group({ id: 'g-platform', account: 'acme', name: 'Platform Admins', policies: [{ id: '3', groups: ['DNS'], resources: [{ zones: ['z1'] }] }] });
  // History as the syncs record it: every object since a day before the first review.
  const q = (text: string, params: unknown[]) => db.pool.query(text, params);
  const from = new Date('2026-10-31T00:00:00Z');
  await q(`insert into account_member_versions (valid_from, change, changed_fields, member_id, account_id, user_id, email, status, role_names, policies)
           select $1, 'created', '{}', id, account_id, user_id, email, status, role_names, policies from account_members`, [from]);
  await q(`insert into user_group_versions (valid_from, change, changed_fields, group_id, account_id, name, policies)
           select $1, 'created', '{}', id, account_id, name, policies from user_groups`, [from]);
  // The listings were read whole since then too (migration 0031: a past answer's completeness is the listings' then).
  await q(`update access_listing_versions set valid_from = $1`, [from]);
});

afterAll(async () => {
  await db?.drop();
});

describe('a review before and after bob joins a group', () => {
  let first: number;
  let second: number;

  it('review diff shows the path that appeared', async () => {
    first = (await startReview(ctxAt(T1), { name: 'before' })).id;
    await w.groupMember('g-platform', 'm-bob', 'acme', 'bob@example.com');
    await db.pool.query(`insert into user_group_member_versions (valid_from, change, changed_fields, membership_id, group_id, member_id, account_id, email)
                         values ($1, 'created', '{}', 'g-platform:m-bob', 'g-platform', 'm-bob', 'acme', 'bob@example.com')`, [JOINED]);
    second = (await startReview(ctxAt(T2), { name: 'after' })).id;
    const bob = (await itemsOf(db.db, second)).find((i) => i.itemKey === 'member:acme:m-bob')!;
    expect(bob.snapshot).toMatchObject({
      access: ['Analytics via role', 'DNS via group Platform Admins, policy 3 on zone example.com'], access_picture_complete: true,
    });
    const diff = await reviewDiffCommand({ db: db.db }, { review: second, against: first });
    expect(diff.output).toContain('~ member member:acme:m-bob (bob@example.com)');
    expect(diff.output).toContain('    access: now also DNS via group Platform Admins, policy 3 on zone example.com');
    // Roles did not change: only the path did. Alice did not change at all.
    expect(diff.output).not.toContain('roles:');
    expect(diff.output).not.toContain('m-alice');
  });

  it('effective_access_at between the two reviews returns the older picture', async () => {
    const at = async (t: Date) => (await db.db.execute<AccessRow>(sql`
      select principal, permission_group_name, path from effective_access_at(${t.toISOString()}::timestamptz)
      where principal = 'bob@example.com' order by path`)).rows;
    expect(await at(new Date('2026-11-01T22:00:00Z'))).toEqual([{ principal: 'bob@example.com', permission_group_name: 'Analytics', path: 'role' }]);
    expect(await at(T2)).toEqual([
      { principal: 'bob@example.com', permission_group_name: 'DNS', path: 'group' },
      { principal: 'bob@example.com', permission_group_name: 'Analytics', path: 'role' },
    ]);
  });
});

describe('the access commands', () => {
  it('who-can prints each row with its path in words, and --at answers from history', async () => {
    const now = await whoCanCommand({ db: db.db }, { permission: 'dns:edit', zone: 'example.com', format: 'table' });
    expect(now.warnings).toEqual([]);
    expect(now.output).toContain('via group Platform Admins, policy 3');
    expect(now.output).toContain('via role DNS');
    const before = await whoCanCommand({ db: db.db }, { permission: 'dns:edit', zone: 'example.com', at: '2026-11-01T22:00:00Z', format: 'json' });
    const parsed = JSON.parse(before.output);
    expect(parsed.rows.map((r: { principal: string }) => r.principal)).toEqual(['alice@example.com']);
    expect(parsed.picture_complete).toBe(true);
    const csv = await whoCanCommand({ db: db.db }, { permission: 'DNS', account: 'Acme', format: 'csv' });
    expect(csv.output.split('\r\n')[0]).toBe('principal,type,account,permission,on,path,effective,principal_id,account_id,zone_id,policy_id,group_id,organization_id,picture_complete');
    expect(csv.output.split('\r\n')).toHaveLength(3);
  });

  it('an incomplete picture is a line on stderr for tables and a field in JSON, naming the listing', async () => {
    await w.listing('account:acme', 'user-groups', 'forbidden', '403');
    try {
      const table = await accessOfCommand({ db: db.db }, { principal: 'bob@example.com', format: 'table' });
      expect(table.warnings).toEqual(['access picture incomplete for account Acme: user-groups forbidden (403)']);
      const json = JSON.parse((await whoCanCommand({ db: db.db }, { permission: 'dns:edit', format: 'json' })).output);
      expect(json).toMatchObject({ picture_complete: false, incomplete: [{ account_id: 'acme', missing: ['user-groups forbidden (403)'] }] });
      expect(json.rows.every((r: AccessRow) => r.picture_complete === false)).toBe(true);
    } finally {
      await w.listing('account:acme', 'user-groups', 'complete');
    }
  });

  it('bad input is one clear line', async () => {
    await expect(whoCanCommand({ db: db.db }, { permission: 'dns:edti', format: 'table' })).rejects.toThrow('access who-can: unknown permission "dns:edti" (did you mean "dns:edit"?)');
    await expect(whoCanCommand({ db: db.db }, { permission: 'dns:edit', zone: 'nope.example', format: 'table' })).rejects.toThrow(/--zone: no zone "nope.example"/);
    await expect(whoCanCommand({ db: db.db }, { permission: 'dns:edit', at: 'yesterday-ish', format: 'table' })).rejects.toThrow('--at "yesterday-ish" is not a date');
  });
});
