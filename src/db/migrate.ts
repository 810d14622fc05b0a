import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';

// src/db/ when run from sources, dist/src/db/ when compiled: the folder sits at the package root.
export const MIGRATIONS_DIR = [new URL('../../migrations', import.meta.url), new URL('../../../migrations', import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((dir) => existsSync(join(dir, 'meta', '_journal.json')))!;

// Arbitrary but fixed: every flarewatch process takes this lock before migrating.
const MIGRATION_LOCK_KEY = 0x666c6172;

/** Apply pending migrations under a session advisory lock, so concurrent starts migrate once. */
export async function runMigrations(url: string, migrationsFolder = MIGRATIONS_DIR): Promise<void> {
  const client = new pg.Client({ connectionString: url, application_name: 'flarewatch-migrate' });
  await client.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query('set client_min_messages = warning');
    await migrate(drizzle(client), { migrationsFolder });
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
}
