import { outboxWriter } from '../alerts/outbox.js';
import type { Context } from '../context.js';
import { type FindingFilter, listFindings } from '../db/queries/findings-read.js';
import type { Finding } from '../db/schema/index.js';
import { acknowledge, AcknowledgeError } from '../findings/acknowledge.js';
import { loadRuleSet } from '../rules/engine.js';
import { UsageError } from '../util/usage-error.js';
import { formatTable, isoOrEmpty, safeText, toCsv } from './findings-format.js';
import { wrapLine } from '../util/table.js';

export type FindingsFormat = 'table' | 'json' | 'csv';

const COLUMNS = [
  'id', 'severity', 'status', 'suppressed', 'rule_id', 'resource_type', 'resource_key', 'resource_name', 'account_id', 'title',
  'first_seen_at', 'last_seen_at', 'resolved_at', 'facts', 'kind', 'last_event_at', 'resolution_reason', 'resolved_by', 'resolution_note',
  'controls',
] as const;

/** The controls a finding's rule supports (FRAMEWORK:ID), by rule id. */
export type ControlsOf = (ruleId: string) => string[];

const asRecord = (f: Finding, controlsOf: ControlsOf) => ({
  id: f.id,
  kind: f.kind,
  severity: f.severity,
  status: f.status,
  suppressed: f.suppressed,
  suppression_id: f.suppressionId,
  rule_id: f.ruleId,
  resource_type: f.resourceType,
  resource_key: f.resourceKey,
  resource_name: f.resourceName,
  account_id: f.accountId,
  title: f.title,
  fingerprint: f.fingerprint,
  first_seen_at: f.firstSeenAt,
  last_seen_at: f.lastSeenAt,
  last_event_at: f.lastEventAt,
  resolved_at: f.resolvedAt,
  resolution_reason: f.resolutionReason,
  resolved_by: f.resolvedBy,
  resolution_note: f.resolutionNote,
  reopened_count: f.reopenedCount,
  facts: f.facts,
  controls: controlsOf(f.ruleId),
});

const statusText = (f: Finding) =>
  f.status + (f.suppressed ? ' (suppressed)' : '') + (f.status === 'resolved' && f.resolutionReason ? ` (${f.resolutionReason}${f.resolvedBy ? ` by ${f.resolvedBy}` : ''})` : '');

function section(title: string, rows: Finding[], when: (f: Finding) => Date | null, width: number | undefined): string {
  const table = formatTable(
    ['id', 'severity', 'status', 'rule', 'resource', 'name', title.startsWith('detections') ? 'last event' : 'last seen'],
    rows.map((f) => [String(f.id), f.severity, safeText(statusText(f)), f.ruleId, safeText(f.resourceKey), safeText(f.resourceName), isoOrEmpty(when(f))]),
    { width, flex: ['status', 'name', 'resource'] },
  );
  return `${wrapLine(`${title} (${rows.length})`, width)}\n${table}`;
}

/**
 * Findings as machine output (JSON array, CSV with a header) or, for people, two tables:
 * state findings (true now; resolve when fixed) and detections (something happened; open until acknowledged).
 */
export function formatFindings(rows: Finding[], format: FindingsFormat, controlsOf: ControlsOf = () => [], width?: number): string {
  if (format === 'json') return JSON.stringify(rows.map((f) => asRecord(f, controlsOf)), null, 2);
  if (format === 'csv') {
    return toCsv([...COLUMNS], rows.map((f) => {
      const r = asRecord(f, controlsOf);
      return COLUMNS.map((c) => (c === 'controls' ? r.controls.join(' ') : r[c]));
    }));
  }
  if (rows.length === 0) return 'no findings';
  const state = rows.filter((f) => f.kind === 'state');
  const detections = rows.filter((f) => f.kind === 'detection');
  return [
    ...(state.length ? [section('state findings: true now, resolved when fixed', state, (f) => f.lastSeenAt, width)] : []),
    ...(detections.length
      ? [section('detections: events to review, open until acknowledged (npx flarewatch findings ack <id> --by <you> --note "…")', detections, (f) => f.lastEventAt ?? f.lastSeenAt, width)]
      : []),
  ].join('\n\n');
}

/** Controls by rule id, from the rules as loaded now (built-in and custom SQL). */
export function controlsByRule(config: Context['config']): ControlsOf {
  const byId = new Map(loadRuleSet(config).rules.map((r) => [r.id, r.controls ?? []]));
  return (id) => byId.get(id) ?? [];
}

export async function findingsCommand(ctx: Context, filter: FindingFilter, format: FindingsFormat): Promise<string> {
  return formatFindings(await listFindings(ctx.db, { status: 'open', ...filter }), format, controlsByRule(ctx.config), ctx.columns);
}

/** `flarewatch findings ack <id...> --by <who> [--note "…"]`: exit 1 when one could not be acknowledged (the others still are). */
export async function ackCommand(ctx: Context, ids: number[], o: { by?: string; note?: string }): Promise<{ output: string; exitCode: number }> {
  if (!o.by?.trim()) throw new UsageError('findings ack: --by <who> is required');
  if (!ids.length) throw new UsageError('findings ack: give the id of at least one detection (npx flarewatch findings shows them)');
  const lines: string[] = [];
  let failed = 0;
  for (const id of ids) {
    try {
      const a = await acknowledge(ctx, id, { by: o.by, note: o.note ?? null }, outboxWriter(ctx, []));
      const to = a.sinks.length ? `; resolution queued for ${a.sinks.join(', ')}` : '';
      lines.push(`finding ${id} acknowledged: ${a.ruleId} ${safeText(a.resourceKey)}${to}`);
    } catch (err) {
      if (!(err instanceof AcknowledgeError)) throw err;
      failed++;
      lines.push(safeText(err.message));
    }
  }
  return { output: lines.join('\n'), exitCode: failed ? 1 : 0 };
}
