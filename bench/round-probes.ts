// What a round costs outside flarewatch's own counts (Redis commands: round-redis.ts): WAL and
// tuples written (PostgreSQL's own statistics), each worker process's peak RSS (the kernel's).
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { ROOT } from './lib.js';

export interface PgWrites { walBytes: bigint; tuples: Map<string, number> }

/** The WAL position and each table's inserted + updated + deleted tuples (statistics flushed first). */
export async function pgWrites(pool: pg.Pool): Promise<PgWrites> {
  // An idle backend flushes its counters at once only if its last flush was a second ago or more,
  // else 10 s later (PostgreSQL's PGSTAT_IDLE_INTERVAL): with 1.5 s the check's writes at the end of a
  // round were counted in the next round. Wait that out, then read afresh.
  await new Promise((r) => setTimeout(r, 11_000));
  const client = await pool.connect();
  try {
    await client.query('select pg_stat_clear_snapshot()');
    const wal = await client.query<{ lsn: string }>(`select pg_current_wal_lsn()::text as lsn`);
    const rows = await client.query<{ name: string; n: string }>(
      `select relname as name, (n_tup_ins + n_tup_upd + n_tup_del)::text as n from pg_stat_user_tables`);
    const [hi, lo] = wal.rows[0]!.lsn.split('/');
    return { walBytes: (BigInt(`0x${hi}`) << 32n) + BigInt(`0x${lo}`), tuples: new Map(rows.rows.map((r) => [r.name, Number(r.n)])) };
  } finally {
    client.release();
  }
}

/** Tuples written between two readings, per table (tables with none left out), most first. */
export function tupleDiff(a: PgWrites, b: PgWrites): Array<[string, number]> {
  return [...b.tuples].map(([t, n]) => [t, n - (a.tuples.get(t) ?? 0)] as [string, number]).filter(([, n]) => n > 0).sort((x, y) => y[1] - x[1]);
}

export interface WorkerProcs { children: ChildProcess[]; peakRssKb(): number[]; cpuSeconds(): number; stop(): Promise<void> }

/** `flarewatch worker` processes (`n`, each `concurrency` walks at once), ready once Redis lists their sync workers. */
export async function startWorkerProcs(n: number, concurrency: number, env: Record<string, string>, redis: Redis): Promise<WorkerProcs> {
  const children = Array.from({ length: n }, () => spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli.ts'), 'worker', '--concurrency', String(concurrency)], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env },
  }));
  // Warnings (the log sink's alert summaries) would bury the figures: only errors and non-log output pass.
  for (const c of children) {
    c.stderr!.on('data', (d: Buffer) => {
      for (const line of d.toString().split('\n')) if (line && !/^\{"level":(30|40)\b/.test(line)) process.stderr.write(`worker ${c.pid}: ${line}\n`);
    });
  }
  const sync = new Queue('sync', { connection: redis });
  const kill = () => { for (const c of children) if (c.exitCode === null) c.kill('SIGTERM'); };
  try {
    // A loaded machine starts four tsx processes slowly: minutes, not seconds.
    const end = Date.now() + 300_000;
    while ((await sync.getWorkers()).length < n) {
      const dead = children.find((c) => c.exitCode !== null);
      if (dead) { kill(); throw new Error(`a worker exited (${dead.exitCode}) before it took jobs`); }
      if (Date.now() > end) { kill(); throw new Error('workers not ready after 300 s'); }
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await sync.close();
  }
  const vmHwm = (c: ChildProcess) => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${c.pid}/status`, 'utf8'))?.[1] ?? NaN);
  // utime + stime of /proc/<pid>/stat (fields 14 and 15, after the command in parentheses), in clock ticks of 1/100 s.
  const cpu = (c: ChildProcess) => readFileSync(`/proc/${c.pid}/stat`, 'utf8').split(') ')[1]!.split(' ').slice(11, 13).reduce((a, b) => a + Number(b), 0) / 100;
  return {
    children,
    peakRssKb: () => children.map(vmHwm),
    cpuSeconds: () => children.reduce((s, c) => s + cpu(c), 0),
    stop: () => Promise.all(children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    }))).then(() => undefined),
  };
}
