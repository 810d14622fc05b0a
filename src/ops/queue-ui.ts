// Bull Board on the ops server at /queues: the queues, their jobs, failures and retries, for
// operators. Off by default; answers only connections that arrived on a loopback address
// (kubectl port-forward, an SSH tunnel) unless exposed, and exposed only behind basic auth.
// Every request also passes queue-guard.ts (host names, origin, token or read-only).
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import express from 'express';
import type { Redis } from 'ioredis';
import { QUEUES } from '../jobs/catalog.js';
import { allowedHosts, refusal, TOKEN_COOKIE, tokenMatches } from './queue-guard.js';

export const QUEUE_UI_PATH = '/queues';

export interface QueueUiSettings {
  enabled: boolean;
  expose: boolean;
  user?: string;
  password?: string;
  token?: string;
  allowedHosts?: string[];
  publicName?: string;
}

export interface QueueUi {
  handle(req: IncomingMessage, res: ServerResponse): void;
  close(): Promise<void>;
}

const isLoopback = (address: string | undefined) => !!address && (/^127\./.test(address) || address === '::1' || /^::ffff:127\./.test(address));

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

function authorised(req: IncomingMessage, user: string, password: string): boolean {
  const m = /^Basic ([A-Za-z0-9+/=]+)$/.exec(req.headers.authorization ?? '');
  if (!m) return false;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const colon = text.indexOf(':');
  return colon >= 0 && same(text.slice(0, colon), user) && same(text.slice(colon + 1), password);
}

const LOGIN_PATH = `${QUEUE_UI_PATH}/login`;
const plain = { 'content-type': 'text/plain; charset=utf-8' };

/** `/queues/login?token=…`: the token becomes a cookie only this origin's /queues pages send (SameSite=Strict). */
function login(req: IncomingMessage, res: ServerResponse, token: string | undefined): void {
  const given = new URL(req.url ?? '/', 'http://x').searchParams.get('token') ?? undefined;
  if (token === undefined) return void res.writeHead(404, plain).end('the queue UI has no token (read-only): nothing to log in to\n');
  if (!tokenMatches(given, token)) return void res.writeHead(401, plain).end('wrong token\n');
  res.writeHead(303, {
    location: QUEUE_UI_PATH,
    'set-cookie': `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=${QUEUE_UI_PATH}; HttpOnly; SameSite=Strict`,
    'cache-control': 'no-store',
  }).end();
}

/** `boundHost`: the address the ops server listens on (one of the host names /queues answers to). */
export function createQueueUi(connection: Redis, settings: QueueUiSettings, boundHost = '127.0.0.1', onConnectionError: (err: Error) => void = () => undefined): QueueUi {
  const guard = { token: settings.token, allowedHosts: settings.allowedHosts ?? [], publicName: settings.publicName, boundHost };
  const hosts = allowedHosts(guard);
  const queues = QUEUES.map((name) => new Queue(name, { connection }));
  // Without a listener BullMQ prints every reconnection attempt's stack to stderr.
  for (const q of queues) q.on('error', onConnectionError);
  const adapter = new ExpressAdapter().setBasePath(QUEUE_UI_PATH);
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q)), serverAdapter: adapter, options: { uiConfig: { boardTitle: 'flarewatch queues' } } });
  const app = express();
  app.disable('x-powered-by');
  app.use(QUEUE_UI_PATH, adapter.getRouter());
  return {
    handle(req, res) {
      if (!settings.expose && !isLoopback(req.socket.localAddress)) {
        res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found\n');
        return;
      }
      if (settings.expose && !authorised(req, settings.user ?? '', settings.password ?? '')) {
        res.writeHead(401, { 'www-authenticate': 'Basic realm="flarewatch queues", charset="UTF-8"', 'content-type': 'text/plain; charset=utf-8' }).end('authentication required\n');
        return;
      }
      const isLogin = (req.url ?? '').split('?')[0] === LOGIN_PATH;
      const refused = refusal(req, isLogin ? { ...guard, token: undefined } : guard, hosts);
      if (refused) return void res.writeHead(refused.status, plain).end(`${refused.message}\n`);
      if (isLogin) return login(req, res, settings.token);
      app(req as express.Request, res as express.Response);
    },
    async close() {
      await Promise.all(queues.map((q) => q.close()));
    },
  };
}
