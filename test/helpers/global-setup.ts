import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { runMigrations } from '../../src/db/migrate.js';
import { preserveExitCode } from '../../src/util/exit-code.js';
import { freePort } from './ports.js';

export const TEMPLATE_DB = 'flarewatch_template';

/** One real PostgreSQL for the whole run; a migrated template database that test files clone. */
export default async function setup(project: TestProject) {
  // Without this a failing run would exit 0 (see preserveExitCode).
  preserveExitCode();
  try {
    return await start(project);
  } catch (err) {
    // vitest can end a run whose global setup failed without a word: say why, then fail.
    const reason = err instanceof Error ? err.message : err === undefined ? 'no reason given' : String(err);
    process.stderr.write(`\nflarewatch tests: global setup failed: ${reason}\n`);
    // Read by the summary reporter, so its closing line never says "0 failed" for this run.
    (globalThis as { flarewatchSetupFailed?: boolean }).flarewatchSetupFailed = true;
    throw err instanceof Error ? err : new Error(reason);
  }
}

async function start(project: TestProject) {
  const dir = mkdtempSync(join(tmpdir(), 'flarewatch-test-pg-'));
  // Run as root, Postgres runs as the 'postgres' user, which must be able to enter the folder.
  chmodSync(dir, 0o755);
  // FLAREWATCH_TEST_PG_PORT: a fixed port (the test of this setup's own failure uses a busy one).
  const server = await startEmbeddedPostgres(dir, Number(process.env.FLAREWATCH_TEST_PG_PORT) || (await freePort()));
  const admin = new pg.Client({ connectionString: server.url.replace(/\/flarewatch$/, '/postgres') });
  await admin.connect();
  await admin.query(`create database ${TEMPLATE_DB}`);
  await admin.end();
  const templateUrl = server.url.replace(/\/flarewatch$/, `/${TEMPLATE_DB}`);
  await runMigrations(templateUrl);
  project.provide('pgAdminUrl', server.url.replace(/\/flarewatch$/, '/postgres'));
  project.provide('pgTemplate', TEMPLATE_DB);
  return async () => {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgTemplate: string;
  }
}
