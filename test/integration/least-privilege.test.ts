import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
const bounds = { timeoutMs: 5_000, maxRows: 1000, maxBytes: 1 << 20 };
const hostile = (name: string) => readFileSync(join(process.cwd(), 'test/fixtures/rules-hostile', `${name}.sql`), 'utf8');
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
  const run = (statement: string) => runCustomQuery(database.db, statement, bounds, 'medium');

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
    const run = (statement: string, readerPassword?: string) => runCustomQuery(owner.db, statement, { ...bounds, readerPassword }, 'low');
    try {
      await expect(run(`select 'x' as resource_key, 't' as resource_type`)).rejects.toThrow(
        `an administrator runs once CREATE ROLE "${role}" NOLOGIN ROLE "owner_c";`);
      await sqlAs(admin(), `CREATE ROLE "${role}" NOLOGIN ROLE "owner_c";`);
      const second = await runMigrations(ownerUrl);
      expect(second).toMatchObject({ roleExists: true, warnings: [] });
      // The rule logs in as the reader, never SET ROLE: without CREATEROLE the owner cannot set its password.
      await expect(run(`select current_user as resource_key, 't' as resource_type`)).rejects.toThrow(
        `ALTER ROLE "${role}" LOGIN PASSWORD '<password>'; and gives flarewatch that password in FLAREWATCH_READER_PASSWORD`);
      await sqlAs(admin(), `ALTER ROLE "${role}" LOGIN PASSWORD 'reader-pw'`);
      await expect(run(`select current_user as resource_key, 't' as resource_type`, 'wrong')).rejects.toThrow(
        new RegExp(`log in as the role ${role}, which failed: password authentication failed`));
      await expect(run(`select current_user as resource_key, 't' as resource_type from api_tokens limit 1`, 'reader-pw')).resolves.toEqual([]);
      await expect(run(`select current_user as resource_key, 't' as resource_type`, 'reader-pw')).resolves.toMatchObject([{ resourceKey: role }]);
      await expect(run(`select set_config('role', 'postgres', true) as resource_key, 't' as resource_type`, 'reader-pw')).rejects.toThrow(/permission denied to set role/);
    } finally {
      await owner.close();
    }
    await sqlAs(admin(), `create role dave login password 'dave-pw'; grant "${role}" to dave`);
    await expect(sqlAs(urlFor(db, 'dave', 'dave-pw'), 'select count(*) from api_tokens')).resolves.toHaveLength(1);
  });
});

describe('hostile rules under a plain database owner (org_c, after the test above)', () => {
  const db = 'org_c';
  const role = readerRoleName(db);
  let owner: Database;
  beforeAll(async () => {
    owner = connectDatabase(urlFor(db, 'owner_c', 'owner-pw'), 2);
    await sqlAs(urlFor(db, 'owner_c', 'owner-pw'), `create table owner_only_secret (v text); insert into owner_only_secret values ('s3cret'); revoke all on owner_only_secret from "${role}"`);
  });
  afterAll(async () => owner?.close());
  const run = (statement: string) => runCustomQuery(owner.db, statement, { ...bounds, readerPassword: 'reader-pw' }, 'low');

  it('set_config(\'role\', \'none\') inside the rule stays the reader: there is no other role to return to', async () => {
    await expect(run(hostile('role-reset'))).resolves.toMatchObject([{ resourceKey: role }]);
  });

  it('query_to_xml reads as the reader, so an owner-only table stays closed', async () => {
    await expect(run(hostile('query-to-xml'))).rejects.toThrow(/permission denied for table owner_only_secret/);
  });

  it('smuggled statements never run as the owner', async () => {
    for (const name of ['dollar-smuggle', 'dollar-smuggle-bare', 'e-string-smuggle', 'e-string-smuggle-bare']) await expect(run(hostile(name))).rejects.toThrow();
    const left = await sqlAs(urlFor(db, 'owner_c', 'owner-pw'), `select
      (select count(*)::int from pg_db_role_setting where setconfig::text ~ '77kB|lock_timeout=7s') as settings,
      (select count(*)::int from pg_class where relname like 'smuggled_%') as tables`);
    expect(left[0]).toEqual({ settings: 0, tables: 0 });
  });
});

describe('flarewatch as a database owner with CREATEROLE (no superuser)', () => {
  it('sets the reader a one-minute password itself and logs in as it; never its own session', async () => {
    const db = 'org_d';
    await sqlAs(admin(), `create role owner_d login createrole password 'owner-d-pw'`);
    await sqlAs(admin(), `create database ${db} owner owner_d`);
    const ownerUrl = urlFor(db, 'owner_d', 'owner-d-pw');
    expect(await runMigrations(ownerUrl)).toMatchObject({ roleExists: true });
    const owner = connectDatabase(ownerUrl, 2);
    try {
      await expect(runCustomQuery(owner.db, hostile('role-reset'), bounds, 'low')).resolves.toMatchObject([{ resourceKey: readerRoleName(db) }]);
      const until = await sqlAs<{ login: boolean; until: Date | null }>(admin(), `select rolcanlogin as login, rolvaliduntil as until from pg_roles where rolname = '${readerRoleName(db)}'`);
      expect(until[0]!.login).toBe(true);
      expect(until[0]!.until).not.toBeNull();
    } finally {
      await owner.close();
    }
  });
});
