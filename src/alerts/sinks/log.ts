// The log sink: one structured pino line per event (or per digest). Values stay raw text
// in JSON (pino escapes them); long strings are capped so a hostile name cannot flood the log.
import type { LogConfig } from '../../config/sinks.js';
import { capStrings, digestCounts, digestOrder, groupDigest, isDigest, isSummary, summaryHeadline } from '../content.js';
import { truncate } from '../escape.js';
import type { AlertEvent, Deliverable, Sender } from '../types.js';

export const LOG_MAX_STRING = 1000;
const cap = (s: string | null | undefined) => (s == null ? undefined : truncate(s, LOG_MAX_STRING));

const eventFields = (e: AlertEvent) => ({
  alertId: e.alertId,
  kind: e.kind,
  fingerprint: e.fingerprint,
  findingId: e.findingId,
  findingKind: e.findingKind,
  ruleId: e.ruleId,
  severity: e.severity,
  previousSeverity: e.previousSeverity,
  resourceType: e.resourceType,
  resourceKey: cap(e.resourceKey),
  resourceName: cap(e.resourceName),
  accountId: e.accountId ?? undefined,
  accountName: cap(e.accountName),
  facts: capStrings(e.facts ?? {}, LOG_MAX_STRING, truncate),
  dashboardUrl: e.dashboardUrl ?? undefined,
  firstSeenAt: e.firstSeenAt,
  occurredAt: e.occurredAt,
  resolution: e.resolution && { ...e.resolution, by: cap(e.resolution.by), note: cap(e.resolution.note) },
});

export interface LogLine {
  obj: Record<string, unknown>;
  msg: string;
}

export function buildLogPayload(event: Deliverable, config: Pick<LogConfig, 'digestMaxEvents'>): LogLine {
  if (isSummary(event)) {
    const top = event.top.map((i) => ({ ...i, resourceKey: cap(i.resourceKey), resourceName: cap(i.resourceName), accountName: cap(i.accountName) }));
    return { obj: { sink: 'log', summary: { ...event, top } }, msg: `alert summary: ${summaryHeadline(event)}` };
  }
  if (!isDigest(event)) {
    return { obj: { sink: 'log', alert: eventFields(event) }, msg: `alert ${event.kind}: ${truncate(event.title, 200)}` };
  }
  const groups = groupDigest(event.events);
  const counts = Object.fromEntries(groups.map((g) => [g.severity, g.count]));
  const listed = digestOrder(event.events).slice(0, config.digestMaxEvents).map((e) => ({
    ruleId: e.ruleId, severity: e.severity, kind: e.kind, resourceKey: cap(e.resourceKey), resourceName: cap(e.resourceName),
  }));
  return {
    obj: { sink: 'log', digest: { alertId: event.alertId, period: event.period, total: event.events.length, counts, events: listed } },
    msg: `alert digest: ${event.events.length} findings (${digestCounts(groups)})`,
  };
}

export const send: Sender<LogConfig> = async (event, config, ctx) => {
  const { obj, msg } = buildLogPayload(event, config);
  ctx.log[config.level](obj, msg);
  return { detail: `logged at ${config.level}` };
};
