import type { ServerResponse } from 'node:http';
import type { FaultRule } from './faults.js';

// Hostile bodies: what a broken proxy or a hostile endpoint can send after a 200's headers.
// Each writes as the socket drains and stops when the client gives up, so the simulator
// itself never holds the whole body.

const closed = (res: ServerResponse) => res.destroyed || res.socket?.destroyed === true;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const write = (res: ServerResponse, chunk: string | Buffer) =>
  new Promise<void>((resolve) => (res.write(chunk) ? resolve() : res.once('drain', resolve)));

/** 'slow-drip': the answer `bytes` (default 1) bytes at a time, one piece every `delayMs` (default 300). */
export async function sendDrip(res: ServerResponse, text: string, headers: Record<string, string>, f: FaultRule): Promise<void> {
  const bytes = Buffer.from(text);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': bytes.length, ...headers });
  const step = Math.max(1, f.bytes ?? 1);
  for (let i = 0; i < bytes.length && !closed(res); i += step) {
    await write(res, bytes.subarray(i, i + step));
    await sleep(f.delayMs ?? 300);
  }
  if (!closed(res)) res.end();
}

/**
 * 'huge-body': the answer with a `padding` field of `bytes` (default 110 MiB) in front, streamed with no
 * content-length (chunked), so only reading it tells its size.
 */
export async function sendHuge(res: ServerResponse, text: string, headers: Record<string, string>, f: FaultRule): Promise<void> {
  res.writeHead(200, { 'content-type': 'application/json', ...headers });
  const piece = 'x'.repeat(64 * 1024);
  await write(res, '{"padding":"');
  for (let sent = 0, total = f.bytes ?? 110 * 1024 * 1024; sent < total && !closed(res); sent += piece.length) await write(res, piece);
  if (!closed(res)) res.end(`",${text.slice(1)}`);
}

/** 'over-page': the page's list holds `entries` items (default one more than it had), copies of its first with new ids. */
export function overPage(result: unknown, f: FaultRule): unknown {
  if (!Array.isArray(result) || result.length === 0) return result;
  const want = f.entries ?? result.length + 1;
  const first = result[0] as Record<string, unknown>;
  const extra = Array.from({ length: Math.max(0, want - result.length) }, (_, i) => ({ ...first, id: `${String(first.id)}-over-${i}` }));
  return [...result, ...extra];
}
