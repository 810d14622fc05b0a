import { openApp } from '../app.js';
import type { Config } from '../config.js';
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

/** Streams that need attention: failing now, or lagging past `maxLagMs`. */
export function unhealthy(rows: StreamLag[], maxLagMs: number): Array<{ stream: string; problem: string }> {
  return rows.flatMap((r) => {
    if (r.failing) return [{ stream: r.stream, problem: 'failing' }];
    if (r.lagSeconds !== null && r.lagSeconds * 1000 > maxLagMs) return [{ stream: r.stream, problem: `lagging ${formatDuration(r.lagSeconds * 1000)}` }];
    return [];
  });
}

/**
 * `flarewatch status [--json] [--max-lag 2h]`: exit 0 when every stream is healthy, 1 when one
 * is failing or lags more than max-lag (a probe or a cron check can use it as is).
 */
export async function statusCommand(config: Config, opts: { json?: boolean; maxLagMs: number }, print: (s: string) => void): Promise<number> {
  const app = await openApp(config, { migrate: false });
  try {
    const rows = await streamLags(app.ctx.db);
    const problems = unhealthy(rows, opts.maxLagMs);
    if (opts.json) print(JSON.stringify({ ok: problems.length === 0, maxLagSeconds: opts.maxLagMs / 1000, problems, streams: rows }, null, 2));
    else {
      print(formatStatus(rows));
      if (problems.length) print(`\n${problems.length} stream(s) need attention: ${problems.map((p) => `${p.stream} (${p.problem})`).join(', ')}`);
    }
    return problems.length ? 1 : 0;
  } finally {
    await app.close();
  }
}
