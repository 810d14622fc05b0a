import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pg from 'pg';
import { credentialAccesses } from '../src/credentials/access.js';
import { loadConfig } from '../src/config.js';
import type { Context } from '../src/context.js';
import { connectDatabase, type Database } from '../src/db/client.js';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { runMigrations } from '../src/db/migrate.js';
import { createLogger } from '../src/log.js';

export const ROOT = new URL('..', import.meta.url).pathname;

export interface BenchPostgres {
  adminUrl: string;
  freshDatabase(): Promise<{ url: string; database: Database }>;
  stop(): Promise<void>;
}

/** A real PostgreSQL for the benchmarks, and a fresh migrated database per measurement. */
export async function benchPostgres(port: number): Promise<BenchPostgres> {
  const dir = mkdtempSync(join(tmpdir(), 'flarewatch-bench-'));
  chmodSync(dir, 0o755);
  const server = await startEmbeddedPostgres(dir, port);
  const adminUrl = server.url.replace(/\/flarewatch$/, '/postgres');
  let n = 0;
  return {
    adminUrl,
    async freshDatabase() {
      const name = `bench_${process.pid}_${n++}`;
      const admin = new pg.Client({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`create database ${name}`);
      await admin.end();
      const url = adminUrl.replace(/\/postgres$/, `/${name}`);
      await runMigrations(url);
      return { url, database: connectDatabase(url, 4) };
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface SimProcess {
  url: string;
  token: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** The simulator in its own process, so it does not share a core's event loop with what is measured. */
export async function simulatorProcess(options: Record<string, unknown>): Promise<SimProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli.ts'), 'simulator', '--port', '0', '--options', JSON.stringify(options)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening at (\S+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`simulator exited (${code}) before listening`)));
  });
  return {
    url,
    token: 'sim-token-0123456789abcdef0123456789abcdef01',
    child,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

/** A Context against the given database and simulator, logging only warnings. */
export function benchContext(database: Database, sim: SimProcess, env: Record<string, string> = {}): Context {
  const config = loadConfig({ CLOUDFLARE_BASE_URL: sim.url, CLOUDFLARE_API_TOKEN: sim.token, DATABASE_URL: 'postgres://bench', LOG_LEVEL: 'warn', ...env });
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  const log = createLogger({ level: 'warn', format: 'json', secrets: [sim.token], destination: quiet });
  return { db: database.db, log, config, credentials: credentialAccesses(config), now: () => new Date() };
}

/** The pages of a v2 audit log over [since, before), ascending, as raw fetches (no flarewatch code involved). */
async function* v2Pages(sim: SimProcess, accountId: string, since: string, before: string): AsyncGenerator<unknown[]> {
  let cursor: string | undefined;
  do {
    const q = new URLSearchParams({ since, before, direction: 'asc', limit: '1000' });
    if (cursor) q.set('cursor', cursor);
    const res = await fetch(`${sim.url}/accounts/${accountId}/logs/audit?${q}`, { headers: { authorization: `Bearer ${sim.token}` } });
    const body = (await res.json()) as { result: unknown[]; result_info?: { cursor?: string } };
    yield body.result;
    cursor = body.result.length ? body.result_info?.cursor || undefined : undefined;
  } while (cursor);
}

/** Fetch every page of a v2 audit log and throw the entries away: the baseline of the archive. */
export async function rawFetchV2(sim: SimProcess, accountId: string, since: string, before: string): Promise<{ pages: number; entries: number }> {
  let pages = 0;
  let entries = 0;
  for await (const page of v2Pages(sim, accountId, since, before)) {
    pages += 1;
    entries += page.length;
  }
  return { pages, entries };
}

export async function firstAccountId(sim: SimProcess): Promise<string> {
  const res = await fetch(`${sim.url}/accounts`, { headers: { authorization: `Bearer ${sim.token}` } });
  const body = (await res.json()) as { result: Array<{ id: string }> };
  return body.result[0]!.id;
}

export const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The first `maxPages` pages of a v2 audit log, kept (for the COPY baseline). */
export async function collectV2Pages(sim: SimProcess, accountId: string, since: string, before: string, maxPages: number): Promise<unknown[][]> {
  const pages: unknown[][] = [];
  for await (const page of v2Pages(sim, accountId, since, before)) {
    pages.push(page);
    if (pages.length >= maxPages) break;
  }
  return pages;
}
