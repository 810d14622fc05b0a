import { describeError, type StreamOutcome } from '../sync/runner.js';
import { formatDuration } from '../util/duration.js';
import { formatTable, wrapLine } from '../util/table.js';

/** A plain-text table of what each stream did, for the terminal. */
export function formatOutcomes(outcomes: StreamOutcome[], width?: number): string {
  const header = ['stream', 'status', 'credential', 'requests', 'pages', 'fetched', 'written', 'deleted', 'time'];
  const rows = outcomes.map((o) =>
    !('counts' in o)
      ? [o.stream, o.status, '', '', '', '', '', '', '']
      : [o.stream, o.status, o.credential ?? '', o.counts.requests, o.counts.pages, o.counts.rowsFetched, o.counts.rowsUpserted, o.counts.rowsMarkedDeleted, formatDuration(o.durationMs)].map(String),
  );
  const failures = outcomes.flatMap((o) => (o.status === 'failed' ? [`  ✗ ${describeError(o.error)}`] : []));
  const notes = outcomes.flatMap((o) => (o.status === 'succeeded' && o.counts.note ? [`  ! ${o.stream}: ${o.counts.note}`] : []));
  const na = outcomes.filter((o) => o.status === 'not-applicable');
  const naLine = na.length ? [`  ${na.length} stream(s) not applicable: ${[...new Set(na.map((o) => (o as { reason: string }).reason))].join('; ')}`] : [];
  return [
    formatTable(header, rows, { width, rule: false }),
    ...[
      ...(notes.length ? ['', 'notes:', ...notes] : []),
      ...(naLine.length ? ['', ...naLine] : []),
      ...(failures.length ? ['', 'failures:', ...failures] : []),
    ].map((l) => wrapLine(l, width)),
  ].join('\n');
}

export const anyFailed = (outcomes: StreamOutcome[]) => outcomes.some((o) => o.status === 'failed');
