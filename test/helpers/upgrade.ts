import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { connectDatabase, type Database } from '../../src/db/client.js';
import { MIGRATIONS_DIR, runMigrations } from '../../src/db/migrate.js';

// Upgrade tests start from a database as an older release left it: the migrations up to a
// number, applied to an empty database of their own. Each undo goes on the test's cleanup list.

export type Cleanups = Array<() => Promise<void>>;

/** The migrations numbered up to `last` (by tag: 0021 is `0021_…`), copied to a folder of their own. */
export function migrationsThrough(last: number, cleanups: Cleanups): string {
  const dir = mkdtempSync(join(tmpdir(), 'flarewatch-old-migrations-'));
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  const journalPath = join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: Array<{ tag: string }> };
  journal.entries = journal.entries.filter((e) => Number(e.tag.slice(0, 4)) <= last);
  writeFileSync(journalPath, JSON.stringify(journal));
  cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function asAdmin(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: inject('pgAdminUrl') });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

/** A new empty database on the test server (dropped at cleanup); its URL. */
export async function emptyDatabase(cleanups: Cleanups): Promise<string> {
  const name = `t_up_${Math.random().toString(16).slice(2, 10)}`;
  await asAdmin(`create database ${name}`);
  cleanups.push(() => asAdmin(`drop database if exists ${name} with (force)`));
  return inject('pgAdminUrl').replace(/\/postgres$/, `/${name}`);
}

/** An empty database migrated up to `last`, with a connection to it (both undone at cleanup). */
export async function databaseThrough(last: number, cleanups: Cleanups): Promise<{ url: string; database: Database }> {
  const url = await emptyDatabase(cleanups);
  await runMigrations(url, { migrationsFolder: migrationsThrough(last, cleanups) });
  const database = connectDatabase(url, 4);
  cleanups.push(() => database.close());
  return { url, database };
}
