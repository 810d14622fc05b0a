import { readFileSync } from 'node:fs';
import { ensureReaderAccess } from '../../src/db/access.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attest } from '../../src/review/attest.js';
import { startReview } from '../../src/review/start.js';
import { runChecks } from '../../src/rules/engine.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { testContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

// Every ```sql block after the cookbook marker in the README runs here against a synced
// simulator world (the demo's), after a check run. A block must also return rows unless
// the prose before it carries <!-- may be empty -->.

const MARKER = '<!-- cookbook';

export function cookbookBlocks(readme: string): Array<{ sql: string; mayBeEmpty: boolean; line: number }> {
  const start = readme.indexOf(MARKER);
  if (start < 0) throw new Error('README has no cookbook marker');
  const blocks: Array<{ sql: string; mayBeEmpty: boolean; line: number }> = [];
  const re = /```sql\n([\s\S]*?)```/g;
  re.lastIndex = start;
  let prev = start;
  for (let m = re.exec(readme); m; m = re.exec(readme)) {
    const prose = readme.slice(prev, m.index);
    blocks.push({ sql: m[1]!, mayBeEmpty: prose.includes('<!-- may be empty -->'), line: readme.slice(0, m.index).split('\n').length });
    prev = m.index + m[0].length;
  }
  return blocks;
}

const blocks = cookbookBlocks(readFileSync(new URL('../../README.md', import.meta.url), 'utf8'));
let db: TestDatabase;
let sim: Simulator;

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({ seed: 42, rateLimit: false });
  const ctx = testContext(db, sim, { FLAREWATCH_RULES_DIR: 'rules/examples' });
  const outcomes = await syncAll(ctx, { streams: [] });
  expect(outcomes.filter((o) => o.status === 'failed')).toEqual([]);
  const checks = await runChecks(ctx);
  expect(checks.outcomes.filter((o) => o.status === 'failed')).toEqual([]);
  // One suppression, so the suppression queries have something to show.
  await db.pool.query(`insert into suppressions (rule_id, resource_pattern, reason, created_by, expires_at)
                       values ('*', 'token:*', 'cookbook example', 'test', now() + interval '30 days')`);
  await runChecks(ctx);
  // One access review with a decision, so the review queries have something to show.
  const review = await startReview(ctx, { name: 'cookbook review' });
  await attest(ctx, review.id, [`token:${sim.world.userTokens[0]!.id}`], { decision: 'keep', by: 'cookbook' });
}, 300_000);

afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

describe('the README review cookbook', () => {
  it('has queries', () => expect(blocks.length).toBeGreaterThan(10));

  it.each(blocks.map((b) => [b.line, b] as const))('the query at README line %i runs', async (_line, block) => {
    const res = await db.pool.query(block.sql);
    const rows = Array.isArray(res) ? res.at(-1)!.rows : res.rows;
    if (!block.mayBeEmpty) expect(rows.length, block.sql).toBeGreaterThan(0);
  });

  it('token_grants has one row per token x policy x permission group x resource, nested resources flattened', async () => {
    const tokens = (await db.pool.query(`select id, policies from api_tokens where deleted_at is null`)).rows as Array<{ id: string; policies: Array<{ permission_groups: unknown[]; resources: Record<string, unknown> }> }>;
    let expected = 0;
    let nested = 0;
    for (const t of tokens) {
      for (const p of t.policies) {
        for (const v of Object.values(p.resources)) {
          const n = v && typeof v === 'object' ? Object.keys(v).length : 1;
          expected += p.permission_groups.length * n;
          if (v && typeof v === 'object') nested += p.permission_groups.length * n;
        }
      }
    }
    const [row] = (await db.pool.query(`select count(*)::int as n, count(*) filter (where resource_parent is not null)::int as nested,
      count(*) filter (where permission_group_name is null)::int as unnamed from token_grants`)).rows;
    expect(row).toEqual({ n: expected, nested, unnamed: 0 });
    expect(nested).toBeGreaterThan(0);
    const purge = (await db.pool.query(`select resource_parent, resource_key, resource_value, resource_scope from token_grants where token_name = 'ci cache purge' limit 1`)).rows[0];
    expect(purge).toMatchObject({ resource_key: 'com.cloudflare.api.account.zone.*', resource_value: '*', resource_scope: 'zone' });
    expect(purge.resource_parent).toMatch(/^com\.cloudflare\.api\.account\.[0-9a-f]+$/);
  });

  it('the reader role can read every view and table, and write nothing', async () => {
    const client = await db.pool.connect();
    try {
      const { role } = await ensureReaderAccess(client);
      expect(role).toBe(`flarewatch_reader_${db.name}`);
      await client.query('begin');
      await client.query(`set local role ${role}`);
      for (const view of ['token_grants', 'expiring_tokens', 'open_findings', 'member_access', 'permission_group_names', 'findings', 'audit_logs', 'api_tokens',
        'access_used(90)', 'audit_v2_coverage', 'audit_permission_map']) {
        await client.query(`select * from ${view} limit 1`);
      }
      await client.query('savepoint s');
      await expect(client.query(`insert into audit_permission_map (id, product, permission_groups) values ('x', 'dns', '{DNS Write}')`)).rejects.toThrow(/permission denied/);
      await client.query('rollback to savepoint s');
      await expect(client.query(`delete from findings`)).rejects.toThrow(/permission denied/);
    } finally {
      await client.query('rollback');
      client.release();
    }
  });
});
