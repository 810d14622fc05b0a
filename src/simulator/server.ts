import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { CredentialStore, Principal } from './credentials.js';
import { authenticate } from './http/auth.js';
import { edgeStyle, errorBody, HttpError, CODES, sendJson, type ErrorStyle } from './http/errors.js';
import { FaultPlan, type FaultRule } from './http/faults.js';
import { parseQuery, type Query } from './http/params.js';
import { RateLimiter } from './http/ratelimit.js';
import { applyBodyFaults, applyPreFaults, sendOk, serialise } from './http/respond.js';
import { authorize } from './http/scope.js';
import { shiftListing, type Shifted } from './http/shift.js';
import { record, type SimStats } from './http/stats.js';
import { auditHandlers } from './routes/audit.js';
import { iamHandlers, type Handler } from './routes/iam.js';
import { iamGroupHandlers } from './routes/iam-groups.js';
import { orgHandlers } from './routes/orgs.js';
import { zoneHandlers } from './routes/zones.js';
import { writeHandlers } from './routes/writes.js';
import type { World } from './world.js';

export const BASE_PATH = '/client/v4';

interface Route { key: string; method: string; segments: string[]; handler: Handler; style: ErrorStyle }

// Literal segments win over parameters (/user/tokens/verify before /user/tokens/:token_id).
const ROUTES: Route[] = Object.entries({ ...iamHandlers, ...iamGroupHandlers, ...zoneHandlers, ...orgHandlers, ...auditHandlers, ...writeHandlers }).map(([key, handler]) => ({
  key, handler, method: key.slice(0, key.indexOf(' ')), segments: key.slice(key.indexOf(' ') + 1).split('/').filter(Boolean),
  style: key.endsWith('/logs/audit') ? 'audit-v2' as const : key.endsWith('audit_logs') ? 'audit-v1' as const
    : key.includes(' /organizations') ? 'organizations' as const : 'iam' as const,
})).sort((a, b) => b.segments.filter((s) => !s.startsWith(':')).length - a.segments.filter((s) => !s.startsWith(':')).length);

function match(method: string, path: string): { route: Route; params: Record<string, string> } | undefined {
  const parts = path.split('/').filter(Boolean);
  for (const route of ROUTES) {
    if (route.method !== method || route.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    if (route.segments.every((s, i) => (s.startsWith(':') ? ((params[s.slice(1)] = decodeURIComponent(parts[i]!)), true) : s === parts[i]))) {
      return { route, params };
    }
  }
  return undefined;
}

export interface ServerDeps {
  world: World; stats: SimStats; store: CredentialStore; limiter: RateLimiter; faults: FaultPlan; now: () => number;
  /** Where 'shift-listing' faults record what they removed. */
  shifted: Shifted[];
}

export function createSimServer(deps: ServerDeps): Server {
  let requestSeq = 0;
  return createServer((req, res) => {
    void handle(req, res, deps, requestSeq++).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, errorBody('iam', [{ code: 10001, message: String(err) }]));
    });
  });
}

/** Pipeline: route → credential → what it may call → rate limit (per principal) → faults → handler → body faults. */
async function handle(req: IncomingMessage, res: ServerResponse, deps: ServerDeps, seq: number): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://sim');
  const query = parseQuery(url.searchParams);
  const path = url.pathname.startsWith(BASE_PATH) ? url.pathname.slice(BASE_PATH.length) || '/' : url.pathname;
  const method = req.method ?? 'GET';
  const found = match(method, path);
  const routeKey = found ? found.route.key : `${req.method ?? 'GET'} ${path}`;
  let principal: Principal | undefined;
  const log = (status: number) => record(deps.stats, {
    method: req.method ?? 'GET', path: url.pathname, route: routeKey, query, status, at: deps.now(), principal: principal?.bucket ?? '',
  });
  const style = found?.route.style ?? 'iam';
  let headers: Record<string, string> = {};
  try {
    if (!found) throw new HttpError(method === 'GET' ? 400 : 405, [{ code: CODES.noRoute, message: 'No route for that URI' }]);
    const body = method === 'GET' ? undefined : await readJson(req);
    principal = authenticate(req.headers, deps.store, routeKey);
    authorize(principal, routeKey, path, found.params, deps.world);
    headers = deps.limiter.check(principal.bucket);
    const faults = deps.faults.pick(routeKey, query);
    if (await applyPreFaults(faults, res, headers, style, log) === 'done') return;
    const has = (kind: FaultRule['kind']) => faults.some((f) => f.kind === kind);
    let answer = found.route.handler({
      world: deps.world, query, params: found.params, now: deps.now(), caller: principal, body, store: deps.store,
      faults: { repeatPage: has('repeat-page'), poison: has('poison-entry'), poisonSeq: seq, future: has('future-entry') },
    });
    const shift = faults.find((f) => f.kind === 'shift-listing');
    if (shift) {
      const shifted = shiftListing(deps.world, routeKey, found.params, principal, answer.result, shift.replace === true);
      if (shifted) deps.shifted.push(shifted);
    }
    answer = applyBodyFaults(answer, faults);
    log(200);
    sendOk(res, serialise(answer, faults), headers, faults);
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    log(err.status);
    sendJson(res, err.status, errorBody(err.fromEdge ? edgeStyle(style) : style, err.errors), { ...headers, ...err.headers });
  }
}

/** A write's JSON body; an empty one is undefined, anything that is not JSON a 400 (Cloudflare answers 400 too). */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, [{ code: CODES.badParam, message: 'request body is not valid JSON' }]);
  }
}

export type { Query };
