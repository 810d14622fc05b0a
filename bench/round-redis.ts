// Redis commands a round costs, by command (the server's INFO commandstats, diffed) and, when asked
// (BENCH_ROUND_REDIS_SOURCES=1: MONITOR, which itself loads Redis), by source: each BullMQ Lua
// script by name, the shared rate limiter's scripts, and BullMQ's plain commands.
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Redis } from 'ioredis';
import { ROOT } from './lib.js';

/** Calls so far of every command the server has seen (`evalsha`, `bzpopmin`, …), this INFO included. */
export async function commandStats(redis: Redis): Promise<Map<string, number>> {
  const info = await redis.info('commandstats');
  const out = new Map<string, number>();
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

/** Calls between two readings, per command, most first (the probe's own INFO left out). */
export function commandDiff(a: Map<string, number>, b: Map<string, number>): Array<[string, number]> {
  return [...b].map(([c, n]) => [c, n - (a.get(c) ?? 0) - (c === 'info' ? 1 : 0)] as [string, number]).filter(([, n]) => n > 0).sort((x, y) => y[1] - x[1]);
}

/** sha1 of every BullMQ script → its name (BullMQ runs them by EVALSHA). */
async function bullmqScripts(): Promise<Map<string, string>> {
  const dir = join(ROOT, 'node_modules/bullmq/dist/esm/scripts');
  const out = new Map<string, string>();
  for (const f of readdirSync(dir).filter((x) => /-\d+\.js$/.test(x))) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as Record<string, { name: string; content: string }>;
    for (const s of Object.values(mod)) out.set(createHash('sha1').update(s.content).digest('hex'), s.name);
  }
  return out;
}

/** The limiter's scripts (src/cloudflare/redis-limiter.ts), told apart by what they call. */
function limiterScript(body: string): string {
  if (body.includes('ZREMRANGEBYSCORE')) return 'limiter acquire';
  if (body.includes("'XX'")) return 'limiter complete';
  if (body.includes("'PX'")) return 'limiter pause';
  return 'other eval';
}

export interface SourceCounter { stop(): Promise<Array<[string, number]>> }

/** Count every command clients sent (MONITOR) until `stop`, by source: scripts by name, other commands by name. */
export async function countSources(redis: Redis): Promise<SourceCounter> {
  const names = await bullmqScripts();
  const counts = new Map<string, number>();
  const connection = redis.duplicate();
  const monitor = await connection.monitor();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    // Commands a script runs are listed too (source "lua"): counted under their script only.
    if (source === 'lua') return;
    const cmd = (args[0] ?? '').toLowerCase();
    const key = cmd === 'evalsha' ? `bullmq ${names.get(args[1] ?? '') ?? 'unknown script'}` : cmd === 'eval' ? limiterScript(args[1] ?? '') : cmd;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  return {
    async stop() {
      monitor.disconnect();
      connection.disconnect();
      return [...counts].sort((a, b) => b[1] - a[1]);
    },
  };
}
