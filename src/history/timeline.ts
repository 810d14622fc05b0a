import type { AuditEventRow } from '../db/queries/history.js';

// Pure: one timeline of an object's versions (what each sync saw) and the audit-log events about
// it (what Cloudflare recorded), with the event's actor beside the change it explains.

/** A version, with its fields by column name (the names changed_fields uses). */
export interface VersionView {
  versionId: number;
  /** Which object (several memberships of one email share a timeline). */
  objectId: string;
  accountId: string | null;
  validFrom: Date;
  validTo: Date | null;
  change: 'baseline' | 'created' | 'changed' | 'restored';
  changedFields: string[];
  endedBy: 'change' | 'deletion' | null;
  endReason: string | null;
  runId: number | null;
  stream: string | null;
  fields: Record<string, unknown>;
}

export type ActionClass = 'create' | 'update' | 'delete' | 'other';

export interface TimelineEntry {
  at: Date;
  kind: 'version' | 'deleted' | 'event';
  objectId: string;
  accountId: string | null;
  /** Versions: 1, 2, … per object. */
  number?: number;
  version?: VersionView;
  /** What changed, in words (versions). */
  changes?: string[];
  event?: AuditEventRow;
  /** The audit event that explains this version or deletion, when one matches. */
  cause?: AuditEventRow;
  /** Events: what this event explains (`version 2`, `deletion`). */
  explains?: string;
}

/** create / update / delete from the action names of both log versions (create, add, rec_set, token_update, remove, …). */
export function actionClass(actionType: string | null): ActionClass {
  const a = (actionType ?? '').toLowerCase();
  if (/(delete|remove|revoke|_del\b|^del)/.test(a)) return 'delete';
  if (/(create|add|invite|issue)/.test(a)) return 'create';
  if (/(update|set|modify|edit|change|roll|rotate|patch)/.test(a)) return 'update';
  return 'other';
}

const WANTED: Record<VersionView['change'], ActionClass[]> = {
  created: ['create'],
  baseline: ['create'],
  changed: ['update', 'create'],
  restored: ['create', 'update'],
};

// Cloudflare's clock and ours differ a little: an event this much after a walk saw the change still explains it.
const SLACK_MS = 60_000;

/** The latest event of the wanted classes about this object in (after, before]. */
function cause(events: AuditEventRow[], objectId: string, classes: ActionClass[], after: Date | null, before: Date, matches: (e: AuditEventRow, id: string) => boolean) {
  const hits = events.filter((e) =>
    matches(e, objectId) && e.actionResult !== 'failure' && classes.includes(actionClass(e.actionType))
    && (after === null || e.eventTime.getTime() > after.getTime()) && e.eventTime.getTime() <= before.getTime() + SLACK_MS);
  return hits.at(-1);
}

export interface TimelineInput {
  versions: VersionView[];
  events: AuditEventRow[];
  /** Which object an event is about. */
  about: (e: AuditEventRow, objectId: string) => boolean;
  describe: (v: VersionView, previous: VersionView | undefined) => string[];
}

/** Versions, deletions and events in time order; each version and deletion with the event that caused it, if any. */
export function buildTimeline({ versions, events, about, describe }: TimelineInput): TimelineEntry[] {
  const out: TimelineEntry[] = [];
  const numbers = new Map<string, number>();
  const explained = new Map<AuditEventRow, string>();
  const previous = new Map<string, VersionView>();
  for (const v of versions) {
    const n = (numbers.get(v.objectId) ?? 0) + 1;
    numbers.set(v.objectId, n);
    const prev = previous.get(v.objectId);
    const c = cause(events, v.objectId, WANTED[v.change], prev?.validFrom ?? null, v.validFrom, about);
    if (c) explained.set(c, `version ${n}`);
    out.push({ at: v.validFrom, kind: 'version', objectId: v.objectId, accountId: v.accountId, number: n, version: v, changes: describe(v, prev), cause: c });
    if (v.endedBy === 'deletion' && v.validTo) {
      const d = cause(events, v.objectId, ['delete'], v.validFrom, v.validTo, about);
      if (d) explained.set(d, 'deletion');
      out.push({ at: v.validTo, kind: 'deleted', objectId: v.objectId, accountId: v.accountId, number: n, version: v, changes: [v.endReason ?? 'deleted'], cause: d });
    }
    previous.set(v.objectId, v);
  }
  for (const e of events) {
    const objectId = [...numbers.keys()].find((id) => about(e, id)) ?? e.resourceId ?? '';
    out.push({ at: e.eventTime, kind: 'event', objectId, accountId: e.accountId, event: e, explains: explained.get(e) });
  }
  const rank = { event: 0, version: 1, deleted: 2 };
  return out.sort((a, b) => a.at.getTime() - b.at.getTime() || rank[a.kind] - rank[b.kind]);
}
