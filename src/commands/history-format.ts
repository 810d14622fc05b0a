import type { AuditEventRow } from '../db/queries/history.js';
import type { TimelineEntry } from '../history/timeline.js';
import { formatTable, isoOrEmpty, safeText } from './findings-format.js';

/** `alice@example.com from 192.0.2.10 with token "ci" (account_v2+account_v1 <id>)`. */
export function actorText(e: AuditEventRow): string {
  const who = e.actorEmail ?? e.actorId ?? 'unknown actor';
  const from = e.actorIp ? ` from ${e.actorIp}` : '';
  const token = e.actorTokenId ? ` with token ${e.actorTokenName ? `"${e.actorTokenName}"` : e.actorTokenId}` : '';
  return `${who}${from}${token}`;
}

const where = (e: AuditEventRow) => `${e.sources.join('+')} ${e.id}`;

function what(t: TimelineEntry): string {
  if (t.kind === 'event') return `audit ${t.event!.actionType ?? '?'}${t.event!.actionResult === 'failure' ? ' (failed)' : ''}`;
  if (t.kind === 'deleted') return 'deleted';
  return `v${t.number} ${t.version!.change}`;
}

function detail(t: TimelineEntry): string {
  if (t.kind === 'event') return `${t.event!.resourceType ?? ''} [${where(t.event!)}]${t.explains ? ` → ${t.explains}` : ''}`;
  const seen = t.kind === 'version' && t.version!.stream ? ` (seen by ${t.version!.stream}, walk ${t.version!.runId})` : '';
  return `${(t.changes ?? []).join('; ')}${seen}`;
}

function by(t: TimelineEntry): string {
  const e = t.kind === 'event' ? t.event : t.cause;
  if (!e) return '';
  return t.kind === 'event' ? actorText(e) : `${actorText(e)} at ${isoOrEmpty(e.eventTime)}`;
}

/** The timeline as a table: when, what, the change (or the event), and who (the audit log's actor). */
export function formatTimeline(timeline: TimelineEntry[], withAccount: boolean, width?: number): string {
  if (!timeline.length) return 'no history recorded';
  const header = ['when', ...(withAccount ? ['account'] : []), 'what', 'change', 'by'];
  const rows = timeline.map((t) => [
    isoOrEmpty(t.at), ...(withAccount ? [t.accountId ?? ''] : []), what(t), safeText(detail(t)), safeText(by(t)),
  ]);
  // The change column is what the command is for: wrapped onto more lines, never cut.
  return formatTable(header, rows, { width, wrap: true, flex: ['change', 'by'] });
}

const eventJson = (e: AuditEventRow) => ({
  source: e.source, id: e.id, sources: e.sources, event_time: e.eventTime.toISOString(), account_id: e.accountId,
  action_type: e.actionType, action_result: e.actionResult, actor_email: e.actorEmail, actor_id: e.actorId, actor_ip: e.actorIp,
  actor_token_id: e.actorTokenId, actor_token_name: e.actorTokenName, resource_type: e.resourceType, resource_id: e.resourceId,
});

export function timelineJson(timeline: TimelineEntry[]) {
  return timeline.map((t) => ({
    at: t.at.toISOString(),
    kind: t.kind,
    object_id: t.objectId,
    account_id: t.accountId,
    ...(t.number !== undefined ? { version: t.number } : {}),
    ...(t.version && t.kind === 'version'
      ? { change: t.version.change, changed_fields: t.version.changedFields, valid_to: t.version.validTo?.toISOString() ?? null, run_id: t.version.runId, stream: t.version.stream, state: t.version.fields }
      : {}),
    ...(t.changes ? { changes: t.changes } : {}),
    ...(t.event ? { event: eventJson(t.event), explains: t.explains ?? null } : {}),
    ...(t.kind !== 'event' ? { cause: t.cause ? eventJson(t.cause) : null } : {}),
  }));
}
