import type { ServerResponse } from 'node:http';
import { CODES, errorBody, sendJson, type ErrorStyle } from './errors.js';
import { htmlErrorPage, type FaultRule } from './faults.js';
import { overPage, sendDrip, sendHuge } from './hostile.js';

type Body = Record<string, unknown>;
const has = (faults: FaultRule[], kind: FaultRule['kind']) => faults.some((f) => f.kind === kind);

/** Faults that answer instead of the handler (or delay it). */
export async function applyPreFaults(faults: FaultRule[], res: ServerResponse, headers: Record<string, string>, style: ErrorStyle,
  log: (s: number) => void): Promise<'done' | 'continue'> {
  for (const f of faults) {
    if (f.kind === 'slow') await new Promise((r) => setTimeout(r, f.delayMs ?? 2000));
    if (f.kind === 'reset') { log(0); res.socket?.destroy(); return 'done'; }
    if (f.kind === '5xx') return answer(res, log, f.status ?? 502, errorBody('iam', [{ code: 10001, message: 'Internal server error' }]), headers);
    if (f.kind === 'error') {
      // A Cloudflare error in the route's own envelope (v2 drops the code, as its failures do).
      const error = { code: f.code ?? CODES.badParam, message: f.message ?? 'Invalid request' };
      return answer(res, log, f.status ?? 400, errorBody(style, [error]), headers);
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
      const body = errorBody('iam', [{ code: CODES.rateLimited, message: 'Please wait and consider throttling your request speed' }]);
      return answer(res, log, 429, body, { ...headers, 'retry-after': String(f.retryAfter ?? 1) });
    }
  }
  return 'continue';
}

function answer(res: ServerResponse, log: (s: number) => void, status: number, body: string, headers: Record<string, string>): 'done' {
  log(status);
  sendJson(res, status, body, headers);
  return 'done';
}

/**
 * Faults that reshape a built success body. 'null-result': `result: null`, no result_info (the OpenAPI
 * definitions allow it for list endpoints; seen on /user/subscriptions). 'odd-result-info': page-style
 * `count` and `per_page` become non-numeric strings while `page` and `total_count` stay right (a v2 answer's
 * `count`, a string already, becomes a non-numeric one; v1 audit answers carry no result_info).
 */
export function applyBodyFaults(body: Body, faults: FaultRule[]): Body {
  let out = body;
  if (has(faults, 'null-result')) {
    const { result_info: _dropped, ...rest } = out;
    out = { ...rest, result: null };
  }
  const over = faults.find((f) => f.kind === 'over-page');
  if (over) out = { ...out, result: overPage(out.result, over) };
  const info = out.result_info as Body | undefined;
  if (has(faults, 'odd-result-info') && info && typeof info === 'object') {
    out = { ...out, result_info: typeof info.page === 'number' ? { ...info, count: 'n/a', per_page: 'n/a' } : { ...info, count: 'n/a' } };
  }
  return out;
}

/** Serialises a success body, breaking it as 'malformed' / 'truncated' ask. */
export function serialise(body: Body, faults: FaultRule[]): string {
  let text = JSON.stringify(body);
  if (has(faults, 'malformed')) text = text.replace(/^\{/, '{"result":').replace(/\}$/, ',}');
  if (has(faults, 'truncated')) text = text.slice(0, Math.max(1, Math.floor(text.length / 2)));
  return text;
}

/**
 * Sends a 200. 'cut-body' sends the headers of the full answer (its content-length included), about half of
 * the body, then destroys the socket: the client's fetch resolves, and reading the body throws
 * (`TypeError: terminated` in Node). Unlike 'reset', a response has begun, so the request is logged as a 200.
 */
export function sendOk(res: ServerResponse, text: string, headers: Record<string, string>, faults: FaultRule[]): void {
  const drip = faults.find((f) => f.kind === 'slow-drip');
  if (drip) return void sendDrip(res, text, headers, drip);
  const huge = faults.find((f) => f.kind === 'huge-body');
  if (huge) return void sendHuge(res, text, headers, huge);
  if (!has(faults, 'cut-body')) return sendJson(res, 200, text, headers);
  const bytes = Buffer.from(text);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length, ...headers });
  res.write(bytes.subarray(0, Math.max(1, Math.floor(bytes.length / 2))), () => (res.socket ? res.socket.destroy() : res.destroy()));
}
