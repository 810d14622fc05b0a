import { describeError, type StreamOutcome } from '../sync/runner.js';
import { formatDuration } from '../util/duration.js';

/** A plain-text table of what each stream did, for the terminal. */
export function formatOutcomes(outcomes: StreamOutcome[]): string {
  const header = ['stream', 'status', 'requests', 'pages', 'fetched', 'written', 'deleted', 'time'];
  const rows = outcomes.map((o) =>
    o.status === 'skipped'
      ? [o.stream, 'skipped', '', '', '', '', '', '']
      : [o.stream, o.status, o.counts.requests, o.counts.pages, o.counts.rowsFetched, o.counts.rowsUpserted, o.counts.rowsMarkedDeleted, formatDuration(o.durationMs)].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  const failures = outcomes.flatMap((o) => (o.status === 'failed' ? [`  ✗ ${describeError(o.error)}`] : []));
  return [line(header), ...rows.map(line), ...(failures.length ? ['', 'failures:', ...failures] : [])].join('\n');
}

export const anyFailed = (outcomes: StreamOutcome[]) => outcomes.some((o) => o.status === 'failed');
