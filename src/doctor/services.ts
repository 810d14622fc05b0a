import { Redis } from 'ioredis';
import pg from 'pg';
import { alertsTestCommand } from '../commands/alerts-test.js';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Check } from './credentials.js';

/** host:port/database of a connection string, never its password. */
function where(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'an unparsable URL';
  }
}

export async function databaseCheck(config: Config): Promise<Check> {
  if (!config.database.url) {
    return { ok: true, what: 'database', detail: `DATABASE_URL is not set: flarewatch runs its embedded PostgreSQL in ${config.dataDir}/postgres` };
  }
  const client = new pg.Client({ connectionString: config.database.url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const v = await client.query<{ v: string }>("select current_setting('server_version') as v");
    return { ok: true, what: 'database', detail: `${where(config.database.url)}: PostgreSQL ${v.rows[0]?.v ?? '?'}` };
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { ok: false, what: 'database', detail: `cannot connect to ${where(config.database.url)} (DATABASE_URL): ${e.code ?? e.message ?? String(err)}` };
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function redisCheck(config: Config): Promise<Check | undefined> {
  if (!config.redis.url) return undefined;
  const redis = new Redis(config.redis.url, { lazyConnect: true, connectTimeout: 3_000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    const info = await redis.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? '?';
    return { ok: true, what: 'redis', detail: `answered (Redis ${version})` };
  } catch (err) {
    return { ok: false, what: 'redis', detail: `cannot reach REDIS_URL: ${(err as { code?: string }).code ?? (err as Error).message}` };
  } finally {
    redis.disconnect();
  }
}

/** Every configured sink: its configuration (already validated at start); with `send`, a sample alert through it. */
export async function sinkChecks(config: Config, log: Logger, send: boolean): Promise<Check[]> {
  const checks: Check[] = [];
  for (const [name, s] of Object.entries(config.alerts.sinks)) {
    const what = `sink ${name} (${s.kind})`;
    if (!send) {
      checks.push({ ok: true, what, detail: `configured: ${s.mode}, at or above ${s.minSeverity}${s.rules.length ? `, rules ${s.rules.join(',')}` : ''} (--send sends a sample)` });
      continue;
    }
    const res = await alertsTestCommand({ config, log, now: () => new Date() }, name);
    checks.push({ ok: res.exitCode === 0, what, detail: res.output.replace(`${name} (${s.kind}): `, '') });
  }
  return checks;
}
