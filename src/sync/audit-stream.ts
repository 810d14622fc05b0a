import { ensureAuditPartitions, monthOf } from '../db/queries/audit-partitions.js';
import { type QuarantinedEntry, insertAuditEntries, quarantineEntries } from '../db/queries/audit-logs.js';
import type { AuditLogRow } from '../db/schema/audit-logs.js';
import { type AuditSource, mapAuditEntry } from './audit-entry.js';
import { type AuditPageSource, v2Pages } from './audit-pages.js';
import { v1Pages } from './audit-v1.js';
import { type AuditCheckpoint, type AuditWindow, placeTime, planWindow } from './audit-window.js';
import type { StreamJob, Walk } from './walk.js';

export interface AuditStreamSpec {
  stream: string;
  source: AuditSource;
  accountId: string | null;
  path: string;
  pages: AuditPageSource;
}

/** The months a window touches plus the ones ahead, so inserts never wait on DDL mid-walk. */
function monthsFor(window: AuditWindow, now: Date, ahead: number): Set<string> {
  const months = new Set<string>();
  const d = new Date(Date.parse(window.since));
  d.setUTCDate(1);
  d.setUTCHours(0, 0, 0, 0);
  const end = new Date(Math.max(Date.parse(window.before), now.getTime()));
  end.setUTCMonth(end.getUTCMonth() + ahead);
  for (; d <= end; d.setUTCMonth(d.getUTCMonth() + 1)) months.add(monthOf(d));
  return months;
}

/**
 * Valid, plausibly dated entries become rows; the rest go to the quarantine with the reason.
 * `lastTime` moves only with entries inside the window asked for: one dated in the year 2999
 * must never become the position a resumed walk starts from.
 */
export function splitPage(spec: AuditStreamSpec, window: AuditWindow, now: Date, items: unknown[], position: string) {
  const rows: AuditLogRow[] = [];
  const bad: QuarantinedEntry[] = [];
  let lastTime = window.lastTime;
  for (const item of items) {
    const mapped = mapAuditEntry(spec.source, spec.accountId, item);
    const quarantine = (reason: string) => bad.push({ stream: spec.stream, position, reason, rawText: JSON.stringify(item) ?? String(item) });
    if (!mapped.ok) {
      quarantine(mapped.reason);
      continue;
    }
    const t = mapped.row.eventTime;
    const place = placeTime(window, now, t.getTime());
    if (place === 'implausible') {
      quarantine(`entry ${mapped.row.id} is dated ${t.toISOString()}, implausibly far outside the window asked for [${window.since}, ${window.before})`);
      continue;
    }
    rows.push(mapped.row);
    const iso = t.toISOString();
    if (place === 'in-window' && (lastTime === undefined || iso > lastTime)) lastTime = iso;
  }
  return { rows, bad, lastTime };
}

/** One window of one audit stream: page → insert → checkpoint, each page in one transaction. */
export async function walkWindow(w: Walk, spec: AuditStreamSpec, cp: AuditCheckpoint, start: AuditWindow): Promise<AuditWindow> {
  let window = start;
  const known = monthsFor(window, w.now(), w.config.audit.partitionsAhead);
  await ensureAuditPartitions(w.db, known);
  for await (const page of spec.pages(w, window, spec.source)) {
    const { rows, bad, lastTime } = splitPage(spec, window, w.now(), page.items, page.position);
    const missing = rows.map((r) => monthOf(r.eventTime)).filter((m) => !known.has(m));
    if (missing.length) {
      await ensureAuditPartitions(w.db, new Set(missing));
      missing.forEach((m) => known.add(m));
    }
    window = { ...window, next: page.next ?? window.next, lastTime, pages: window.pages + 1, entries: window.entries + page.items.length };
    if (bad.length) w.log.warn({ position: page.position, bad: bad.map((b) => b.reason) }, 'quarantined audit entries');
    await w.commitPage(async (tx) => {
      // Counted before the run row is written in this transaction, so an abandoned run's counts match its last page.
      w.counts.pages += 1;
      w.counts.rowsFetched += page.items.length;
      w.counts.rowsUpserted += await insertAuditEntries(tx, rows);
      w.counts.rowsQuarantined += await quarantineEntries(tx, bad);
    }, { ...cp, window } satisfies AuditCheckpoint);
    w.progress?.update({ stream: w.stream, entries: window.entries, pages: window.pages, windowSince: window.since, windowBefore: window.before, position: lastTime });
  }
  return window;
}

/** An audit log archived window by window: ascending, page → insert → checkpoint in one transaction. */
function auditJob(spec: AuditStreamSpec): StreamJob {
  return {
    stream: spec.stream,
    async walk(w) {
      const cp = (w.checkpoint ?? {}) as AuditCheckpoint;
      const { overlap, lag, backfill, since, retentionMonths } = w.config.audit;
      // No point fetching on a first run what retention would drop straight away.
      const backfillMs = retentionMonths > 0 ? Math.min(backfill, retentionMonths * 31 * 86_400_000) : backfill;
      const window = planWindow(cp, w.now(), { overlapMs: overlap, lagMs: lag, backfillMs, since });
      if (cp.window) w.setResumedFromPage(cp.window.pages + 1);
      if (!window) {
        await w.complete(async () => undefined, { watermark: cp.watermark, ...(cp.from ? { from: cp.from } : {}) } satisfies AuditCheckpoint);
        return;
      }
      // Only a first walk knows where the archive begins; an older checkpoint without it stays without.
      const from = cp.from ?? (cp.watermark ? undefined : window.since);
      const done = await walkWindow(w, spec, cp, window);
      w.progress?.update({ stream: w.stream, entries: done.entries, pages: done.pages, windowSince: done.since, windowBefore: done.before, position: done.before, done: true });
      await w.complete(async () => undefined, { watermark: done.before, ...(from ? { from } : {}) } satisfies AuditCheckpoint);
    },
  };
}

export const userAuditSpec = (credential: string): AuditStreamSpec =>
  ({ stream: `user-audit:${credential}`, source: 'user_v1', accountId: null, path: '/user/audit_logs', pages: v1Pages('/user/audit_logs') });
export const accountAuditSpec = (accountId: string): AuditStreamSpec =>
  ({ stream: `account-audit:${accountId}`, source: 'account_v2', accountId, path: `/accounts/${accountId}/logs/audit`, pages: v2Pages(`/accounts/${accountId}/logs/audit`) });
export const accountAuditV1Spec = (accountId: string): AuditStreamSpec =>
  ({ stream: `account-audit-v1:${accountId}`, source: 'account_v1', accountId, path: `/accounts/${accountId}/audit_logs`, pages: v1Pages(`/accounts/${accountId}/audit_logs`) });

export const userAuditStream = (credential: string) => auditJob(userAuditSpec(credential));
export const accountAuditStream = (accountId: string) => auditJob(accountAuditSpec(accountId));
export const accountAuditV1Stream = (accountId: string) => auditJob(accountAuditV1Spec(accountId));
