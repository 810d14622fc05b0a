import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDatabase, type Database } from '../../src/db/client.js';
import { type EmbeddedServer, startEmbeddedPostgres } from '../../src/db/embedded.js';
import { runMigrations } from '../../src/db/migrate.js';
import { readerRoleName } from '../../src/db/reader-role.js';
import { runCustomQuery } from '../../src/rules/custom.js';
import { freePort } from '../helpers/ports.js';

// A server of its own: these tests create and drop roles, which belong to the whole server,
// and need one where no earlier flarewatch created the legacy shared role.
let server: EmbeddedServer;
let dir: string;
const admin = () => server.url.replace(/\/flarewatch$/, '/postgres');
const urlFor = (db: string, user?: string, password?: string) => {
  const u = new URL(server.url.replace(/\/flarewatch$/, `/${db}`));
  if (user) (u.username = user), (u.password = password ?? '');
  return u.toString();
};
async function sqlAs<T extends pg.QueryResultRow = Record<string, unknown>>(url: string, text: string): Promise<T[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(text)).rows;
  } finally {
    await c.end();
  }
}
const log = () => {
  const lines: string[] = [];
  return { lines, warn: (m: string) => lines.push(m) } as unknown as { lines: string[]; warn(m: string): void };
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'flarewatch-privilege-'));
  chmodSync(dir, 0o755);
  server = await startEmbeddedPostgres(dir, await freePort());
  for (const db of ['org_a', 'org_b']) {
    await sqlAs(admin(), `create database ${db}`);
    await runMigrations(urlFor(db));
  }
  await sqlAs(admin(), `create role alice login password 'alice-pw'; grant ${readerRoleName('org_a')} to alice;
    create role bob login password 'bob-pw'; grant ${readerRoleName('org_b')} to bob;
    create role carol login password 'carol-pw'`);
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('several organisations on one server: one database and one reader role each', () => {
  it('each reader reads its own organisation and cannot even connect to the other one', async () => {
    await expect(sqlAs(urlFor('org_a', 'alice', 'alice-pw'), 'select count(*) from api_tokens')).resolves.toHaveLength(1);
    await expect(sqlAs(urlFor('org_b', 'bob', 'bob-pw'), 'select count(*) from findings')).resolves.toHaveLength(1);
    await expect(sqlAs(urlFor('org_b', 'alice', 'alice-pw'), 'select 1')).rejects.toThrow(/permission denied for database "org_b"/);
    await expect(sqlAs(urlFor('org_a', 'bob', 'bob-pw'), 'select 1')).rejects.toThrow(/permission denied for database "org_a"/);
  });

  it('readers write nothing, and a role granted nothing cannot connect (CONNECT is revoked from PUBLIC)', async () => {
    await expect(sqlAs(urlFor('org_a', 'alice', 'alice-pw'), 'delete from findings')).rejects.toThrow(/permission denied/);
    await expect(sqlAs(urlFor('org_a', 'carol', 'carol-pw'), 'select 1')).rejects.toThrow(/permission denied for database/);
  });

  it('the legacy server-wide flarewatch_reader reaches no organisation any more', async () => {
    await sqlAs(admin(), 'grant flarewatch_reader to carol; grant connect on database org_a to carol');
    await expect(sqlAs(urlFor('org_a', 'carol', 'carol-pw'), 'select count(*) from api_tokens')).rejects.toThrow(/permission denied for table api_tokens/);
    const report = await runMigrations(urlFor('org_a'));
    expect(report.warnings.join('\n')).toContain(`GRANT "${readerRoleName('org_a')}" TO "carol";`);
  });
});

describe('custom SQL rules run as the reader role, on a connection of their own', () => {
  let database: Database;
  beforeAll(() => {
    database = connectDatabase(urlFor('org_a'), 2);
  });
  afterAll(async () => database?.close());
  const run = (statement: string) => runCustomQuery(database.db, statement, 5_000, 'medium');

  it('read flarewatch tables, but not the server files, even when flarewatch is a superuser', async () => {
    await expect(run(`select 'x' as resource_key, 't' as resource_type, count(*) as n from api_tokens`)).resolves.toHaveLength(1);
    await expect(run(`select pg_read_file('/etc/passwd') as resource_key, 't' as resource_type`)).rejects.toThrow(/permission denied for function pg_read_file/);
    // A superuser session could switch back to itself from inside the query; this one is not one.
    await expect(run(`select set_config('role', 'postgres', true) as resource_key, 't' as resource_type`)).rejects.toThrow(/permission denied to set role/);
    await expect(run(`select current_user as resource_key, 't' as resource_type`)).resolves.toMatchObject([{ resourceKey: readerRoleName('org_a') }]);
  });

  it('a session advisory lock a rule takes ends with its connection', async () => {
    await run(`select 'x' as resource_key, 't' as resource_type from (select pg_advisory_lock(424242)) l`);
    const held = await sqlAs(urlFor('org_a'), `select count(*)::int as n from pg_locks where locktype = 'advisory' and objid = 424242`);
    expect(held[0]).toEqual({ n: 0 });
  });
});

describe('flarewatch as a database owner without CREATEROLE', () => {
  const db = 'org_c';
  const role = readerRoleName(db);
  it('migrates with a warning naming the one statement an administrator runs, then uses the role once it exists', async () => {
    await sqlAs(admin(), `create role owner_c login password 'owner-pw'`);
    await sqlAs(admin(), `create database ${db} owner owner_c`);
    // No flarewatch_reader on a server where flarewatch never had CREATEROLE: drop the one the other databases made.
    await sqlAs(urlFor('org_a'), 'revoke all on database org_a from flarewatch_reader');
    await sqlAs(urlFor('org_b'), 'revoke all on database org_b from flarewatch_reader');
    await sqlAs(admin(), 'revoke flarewatch_reader from carol');
    for (const d of ['org_a', 'org_b', 'postgres']) await sqlAs(urlFor(d), 'drop owned by flarewatch_reader');
    await sqlAs(admin(), 'drop role flarewatch_reader');

    const ownerUrl = urlFor(db, 'owner_c', 'owner-pw');
    const first = log();
    const report = await runMigrations(ownerUrl, { log: first as never });
    expect(report.roleExists).toBe(false);
    expect(first.lines.join('\n')).toContain(`An administrator runs once: CREATE ROLE "${role}" NOLOGIN ROLE "owner_c";`);
    expect(first.lines.join('\n')).toMatch(/skipped a statement about the legacy role flarewatch_reader/);
    await expect(sqlAs(ownerUrl, 'select count(*) from findings')).resolves.toHaveLength(1);

    const owner = connectDatabase(ownerUrl, 2);
    try {
      await expect(runCustomQuery(owner.db, `select 'x' as resource_key, 't' as resource_type`, 5_000, 'low')).rejects.toThrow(
        `an administrator runs once CREATE ROLE "${role}" NOLOGIN ROLE "owner_c";`);
      await sqlAs(admin(), `CREATE ROLE "${role}" NOLOGIN ROLE "owner_c";`);
      const second = await runMigrations(ownerUrl);
      expect(second).toMatchObject({ roleExists: true, warnings: [] });
      await expect(runCustomQuery(owner.db, `select current_user as resource_key, 't' as resource_type from api_tokens limit 1`, 5_000, 'low')).resolves.toEqual([]);
      await expect(runCustomQuery(owner.db, `select current_user as resource_key, 't' as resource_type`, 5_000, 'low')).resolves.toMatchObject([{ resourceKey: role }]);
      await expect(runCustomQuery(owner.db, `select set_config('role', 'postgres', true) as resource_key, 't' as resource_type`, 5_000, 'low')).rejects.toThrow(/permission denied to set role/);
    } finally {
      await owner.close();
    }
    await sqlAs(admin(), `create role dave login password 'dave-pw'; grant "${role}" to dave`);
    await expect(sqlAs(urlFor(db, 'dave', 'dave-pw'), 'select count(*) from api_tokens')).resolves.toHaveLength(1);
  });
});
