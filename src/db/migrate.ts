import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import pg from 'pg';
import { writeVocabulary } from '../access/vocabulary.js';
import type { Logger } from '../log.js';
import { type AccessReport, ensureReaderAccess } from './access.js';

// src/db/ when run from sources, dist/src/db/ when compiled: the folder sits at the package root.
export const MIGRATIONS_DIR = [new URL('../../migrations', import.meta.url), new URL('../../../migrations', import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((dir) => existsSync(join(dir, 'meta', '_journal.json')))!;

// Arbitrary but fixed: every flarewatch process takes this lock before migrating.
const MIGRATION_LOCK_KEY = 0x666c6172;

// The server-wide role of the first releases. Statements about it need CREATEROLE (or the role to
// exist): without them they are skipped with a warning instead of failing every command.
const LEGACY_ROLE = /\bflarewatch_reader\b/;
const PRIVILEGE_ERRORS = new Set(['42501', '42704']);

/**
 * drizzle's migrator, statement for statement (same journal, same `drizzle.__drizzle_migrations`
 * table, one transaction), except that a legacy role statement that lacks the privilege is
 * skipped (under a savepoint) rather than failing the migration.
 */
async function applyMigrations(client: pg.Client, migrationsFolder: string, warnings: string[]): Promise<void> {
  const migrations = readMigrationFiles({ migrationsFolder });
  await client.query('CREATE SCHEMA IF NOT EXISTS "drizzle"');
  await client.query('CREATE TABLE IF NOT EXISTS "drizzle"."__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)');
  const last = (await client.query<{ created_at: string }>('select created_at from "drizzle"."__drizzle_migrations" order by created_at desc limit 1')).rows[0];
  const pending = migrations.filter((m) => !last || Number(last.created_at) < m.folderMillis);
  if (!pending.length) return;
  await client.query('BEGIN');
  try {
    for (const migration of pending) {
      for (const stmt of migration.sql) {
        if (!LEGACY_ROLE.test(stmt)) {
          await client.query(stmt);
          continue;
        }
        await client.query('SAVEPOINT legacy_role');
        try {
          await client.query(stmt);
          await client.query('RELEASE SAVEPOINT legacy_role');
        } catch (err) {
          if (!PRIVILEGE_ERRORS.has((err as { code?: string }).code ?? '')) throw err;
          await client.query('ROLLBACK TO SAVEPOINT legacy_role');
          warnings.push(`skipped a statement about the legacy role flarewatch_reader: ${(err as Error).message}`);
        }
      }
      await client.query('insert into "drizzle"."__drizzle_migrations" ("hash", "created_at") values ($1, $2)', [migration.hash, migration.folderMillis]);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

async function storeVocabulary(client: pg.Client): Promise<void> {
  await client.query('BEGIN');
  try {
    await writeVocabulary(client);
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/**
 * Apply pending migrations under a session advisory lock (concurrent starts migrate once),
 * then the per-database reader role and privileges. Warnings (no CREATEROLE, ...) are logged.
 */
export async function runMigrations(url: string, opts: { log?: Logger; migrationsFolder?: string } = {}): Promise<AccessReport> {
  const client = new pg.Client({ connectionString: url, application_name: 'flarewatch-migrate' });
  await client.connect();
  const warnings: string[] = [];
  try {
    await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    await client.query('set client_min_messages = warning');
    await applyMigrations(client, opts.migrationsFolder ?? MIGRATIONS_DIR, warnings);
    // The permission vocabulary is data shipped with this version: rewritten on every migrate
    // (not when migrating to a version older than its tables).
    if ((await client.query(`select to_regclass('access_capabilities') is not null as ok`)).rows[0]?.ok) await storeVocabulary(client);
    const access = await ensureReaderAccess(client);
    access.warnings.unshift(...warnings);
    for (const w of access.warnings) opts.log?.warn(w);
    return access;
  } finally {
    await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
}
