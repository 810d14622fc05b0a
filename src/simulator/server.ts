import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { authenticate, type SimCredentials } from './http/auth.js';
import { errorBody, HttpError, CODES, sendJson, type ErrorStyle } from './http/errors.js';
import { FaultPlan, htmlErrorPage, type FaultRule } from './http/faults.js';
import { parseQuery, type Query } from './http/params.js';
import { RateLimiter } from './http/ratelimit.js';
import { record, type SimStats } from './http/stats.js';
import { auditHandlers } from './routes/audit.js';
import { iamHandlers, type Handler } from './routes/iam.js';
import type { World } from './world.js';
import { isExpired } from './tokens.js';

export const BASE_PATH = '/client/v4';

interface Route { key: string; segments: string[]; handler: Handler; style: ErrorStyle }

// Literal segments win over parameters (/user/tokens/verify before /user/tokens/:token_id).
const ROUTES: Route[] = Object.entries({ ...iamHandlers, ...auditHandlers }).map(([key, handler]) => ({
  key, handler, segments: key.slice(4).split('/').filter(Boolean),
  style: key.endsWith('/logs/audit') ? 'audit-v2' as const : key.endsWith('audit_logs') ? 'audit-v1' as const : 'iam' as const,
})).sort((a, b) => b.segments.filter((s) => !s.startsWith(':')).length - a.segments.filter((s) => !s.startsWith(':')).length);

function match(path: string): { route: Route; params: Record<string, string> } | undefined {
  const parts = path.split('/').filter(Boolean);
  for (const route of ROUTES) {
    if (route.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    if (route.segments.every((s, i) => (s.startsWith(':') ? ((params[s.slice(1)] = decodeURIComponent(parts[i]!)), true) : s === parts[i]))) {
      return { route, params };
    }
  }
  return undefined;
}

export interface ServerDeps {
  world: World; stats: SimStats; credentials: SimCredentials; limiter: RateLimiter; faults: FaultPlan; now: () => number;
}

export function createSimServer(deps: ServerDeps): Server {
  let requestSeq = 0;
  return createServer((req, res) => {
    void handle(req, res, deps, requestSeq++).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, errorBody('iam', [{ code: 10001, message: String(err) }]));
    });
  });
}

async function handle(req: IncomingMessage, res: ServerResponse, deps: ServerDeps, seq: number): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sim');
  const query = parseQuery(url.searchParams);
  const path = url.pathname.startsWith(BASE_PATH) ? url.pathname.slice(BASE_PATH.length) || '/' : url.pathname;
  const found = req.method === 'GET' ? match(path) : undefined;
  const routeKey = found ? found.route.key : `${req.method ?? 'GET'} ${path}`;
  const log = (status: number) => record(deps.stats, { method: req.method ?? 'GET', path: url.pathname, route: routeKey, query, status, at: deps.now() });
  const style = found?.route.style ?? 'iam';
  let headers: Record<string, string> = {};
  try {
    if (!found) throw new HttpError(req.method === 'GET' ? 400 : 405, [{ code: CODES.noRoute, message: 'No route for that URI' }]);
    const usable = () => tokenUsable(deps);
    const principal = authenticate(req.headers, deps.credentials, routeKey, usable);
    headers = deps.limiter.check(principal);
    const faults = deps.faults.pick(routeKey, query);
    const outcome = await applyPreFaults(faults, res, headers, log);
    if (outcome === 'done') return;
    const body = found.route.handler({
      world: deps.world, query, params: found.params, now: deps.now(),
      faults: { repeatPage: faults.some((f) => f.kind === 'repeat-page'), poison: faults.some((f) => f.kind === 'poison-entry'), poisonSeq: seq },
    });
    let text = JSON.stringify(body);
    if (faults.some((f) => f.kind === 'malformed')) text = text.replace(/^\{/, '{"result":').replace(/\}$/, ',}');
    if (faults.some((f) => f.kind === 'truncated')) text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
    log(200);
    sendJson(res, 200, text, headers);
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    log(err.status);
    sendJson(res, err.status, errorBody(style, err.errors), { ...headers, ...err.headers });
  }
}

/** The configured apiToken stands for the world's first user token: expiring or removing it locks the caller out. */
function tokenUsable(deps: ServerDeps): boolean {
  const t = deps.world.userTokens.find((x) => x.id === deps.world.credentialTokenId);
  return t !== undefined && t.status === 'active' && !isExpired(t, deps.now());
}

/** Faults that answer instead of the handler (or delay it). */
async function applyPreFaults(faults: FaultRule[], res: ServerResponse, headers: Record<string, string>, log: (s: number) => void): Promise<'done' | 'continue'> {
  for (const f of faults) {
    if (f.kind === 'slow') await new Promise((r) => setTimeout(r, f.delayMs ?? 2000));
    if (f.kind === 'reset') { log(0); res.socket?.destroy(); return 'done'; }
    if (f.kind === '5xx') {
      const status = f.status ?? 502;
      log(status);
      sendJson(res, status, errorBody('iam', [{ code: 10001, message: 'Internal server error' }]), headers);
      return 'done';
    }
    if (f.kind === 'html') {
      const status = f.status ?? 502;
      log(status);
      const body = htmlErrorPage(status);
      res.writeHead(status, { 'content-type': 'text/html; charset=UTF-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return 'done';
    }
    if (f.kind === '429') {
      log(429);
      sendJson(res, 429, errorBody('iam', [{ code: CODES.rateLimited, message: 'Please wait and consider throttling your request speed' }]),
        { ...headers, 'retry-after': String(f.retryAfter ?? 1) });
      return 'done';
    }
  }
  return 'continue';
}

export type { Query };
