import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { Redis } from 'ioredis';
import type { Db } from '../db/client.js';
import type { Metrics } from './metrics.js';
import { QUEUE_UI_PATH, type QueueUi } from './queue-ui.js';
import type { QueuePauses } from './queue-state.js';

export interface OpsServer {
  port: number;
  close(): Promise<void>;
}

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([p, new Promise<never>((_, fail) => setTimeout(() => fail(new Error(`no answer within ${ms} ms`)), ms).unref())]);

/** What /readyz reports: Postgres or Redis away, a paused queue (nothing runs, yet nothing fails either). */
async function readiness(opts: { db: Db; redis: Redis; pauses?: QueuePauses }): Promise<string[]> {
  const [pg, redis, pauses] = await Promise.allSettled([
    withTimeout(opts.db.execute(sql`select 1`), 2_000), withTimeout(opts.redis.ping(), 2_000), withTimeout(opts.pauses?.paused() ?? Promise.resolve({}), 2_000),
  ]);
  const paused = pauses.status === 'fulfilled' ? Object.entries(pauses.value).filter(([, p]) => p).map(([q]) => `queue ${q} paused`) : [];
  return [pg.status === 'rejected' ? 'postgres unreachable' : '', redis.status === 'rejected' ? 'redis unreachable' : '', ...paused].filter(Boolean);
}

/** /healthz (the process is up), /readyz (Postgres and Redis answer, no queue paused), /metrics (Prometheus), /queues (Bull Board, when on). */
export async function startOpsServer(opts: {
  port: number; host?: string; db: Db; redis: Redis; metrics: Metrics; queueUi?: QueueUi; pauses?: QueuePauses;
}): Promise<OpsServer> {
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') return send(200, 'ok\n');
    if (path === '/readyz') {
      void readiness(opts).then((problems) => send(problems.length ? 503 : 200, problems.length ? `${problems.join('\n')}\n` : 'ready\n'));
      return;
    }
    if (path === '/metrics') {
      void opts.metrics.registry.metrics().then(
        (text) => send(200, text, opts.metrics.registry.contentType),
        (err: unknown) => send(500, `metrics failed: ${(err as Error).message}\n`),
      );
      return;
    }
    if (opts.queueUi && (path === QUEUE_UI_PATH || path?.startsWith(`${QUEUE_UI_PATH}/`))) return opts.queueUi.handle(req, res);
    send(404, 'not found: try /healthz, /readyz or /metrics\n');
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', fail);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => ok());
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      await new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      });
      await opts.queueUi?.close();
      await opts.pauses?.close();
    },
  };
}
