import { openApp } from '../app.js';
import { loadConfig } from '../config.js';
import { streamLags, type StreamLag } from '../ops/metrics.js';
import { formatDuration } from '../util/duration.js';

const checkpointText = (s: StreamLag): string => {
  if (s.watermark) return `watermark ${s.watermark}`;
  const cp = s.checkpoint as { page?: number; cursor?: string } | null;
  if (cp && typeof cp === 'object' && Object.keys(cp).length) return JSON.stringify(cp).slice(0, 60);
  return '-';
};

/**
 * The last error only while it is current (newer than the last success); an error a later walk
 * got past shows as recovered, with when it happened, not as a live problem.
 */
const errorText = (r: StreamLag): string => {
  if (!r.lastError) return '';
  if (!r.failing) return r.lastErrorAt ? `recovered (failed ${r.lastErrorAt})` : 'recovered';
  return `${r.lastErrorAt ?? ''} ${r.lastError}`.trim().slice(0, 160);
};

/** One line per stream: checkpoint, lag (now − watermark for audit logs, now − last success otherwise), last error. */
export function formatStatus(rows: StreamLag[]): string {
  if (!rows.length) return 'no stream has been walked yet';
  const header = ['stream', 'checkpoint', 'lag', 'last success', 'last error'];
  const body = rows.map((r) => [
    r.stream,
    checkpointText(r),
    r.lagSeconds === null ? 'never' : formatDuration(r.lagSeconds * 1000),
    r.lastSuccessAt ?? 'never',
    errorText(r),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...body.map(line)].join('\n');
}

export async function statusCommand(print: (s: string) => void): Promise<void> {
  const app = await openApp(loadConfig(), { migrate: false });
  try {
    print(formatStatus(await streamLags(app.ctx.db)));
  } finally {
    await app.close();
  }
}
