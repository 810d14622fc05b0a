import { ensureAuditPartitions, monthOf } from '../db/queries/audit-partitions.js';
import { type QuarantinedEntry, insertAuditEntries, quarantineEntries } from '../db/queries/audit-logs.js';
import type { AuditLogRow } from '../db/schema/audit-logs.js';
import { type AuditSource, mapAuditEntry } from './audit-entry.js';
import { type AuditPageSource, v1Pages, v2Pages } from './audit-pages.js';
import { type AuditCheckpoint, type AuditWindow, planWindow } from './audit-window.js';
import type { StreamJob, Walk } from './runner.js';

interface AuditStreamSpec {
  stream: string;
  source: AuditSource;
  accountId: string | null;
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

function splitPage(spec: AuditStreamSpec, items: unknown[], position: string) {
  const rows: AuditLogRow[] = [];
  const bad: QuarantinedEntry[] = [];
  for (const item of items) {
    const mapped = mapAuditEntry(spec.source, spec.accountId, item);
    if (mapped.ok) rows.push(mapped.row);
    else bad.push({ stream: spec.stream, position, reason: mapped.reason, rawText: JSON.stringify(item) ?? String(item) });
  }
  return { rows, bad };
}

async function walkWindow(w: Walk, spec: AuditStreamSpec, cp: AuditCheckpoint, start: AuditWindow): Promise<AuditWindow> {
  let window = start;
  const known = monthsFor(window, w.now(), w.config.audit.partitionsAhead);
  await ensureAuditPartitions(w.db, known);
  for await (const page of spec.pages(w, window)) {
    const { rows, bad } = splitPage(spec, page.items, page.position);
    const missing = rows.map((r) => monthOf(r.eventTime)).filter((m) => !known.has(m));
    if (missing.length) {
      await ensureAuditPartitions(w.db, new Set(missing));
      missing.forEach((m) => known.add(m));
    }
    const lastTime = rows.reduce<string | undefined>((acc, r) => {
      const t = r.eventTime.toISOString();
      return acc === undefined || t > acc ? t : acc;
    }, window.lastTime);
    window = { ...window, next: page.next ?? window.next, lastTime, pages: window.pages + 1, entries: window.entries + page.items.length };
    if (bad.length) w.log.warn({ position: page.position, bad: bad.map((b) => b.reason) }, 'quarantined audit entries that failed validation');
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
        await w.complete(async () => undefined, { watermark: cp.watermark } satisfies AuditCheckpoint);
        return;
      }
      const done = await walkWindow(w, spec, cp, window);
      w.progress?.update({ stream: w.stream, entries: done.entries, pages: done.pages, windowSince: done.since, windowBefore: done.before, position: done.before, done: true });
      await w.complete(async () => undefined, { watermark: done.before } satisfies AuditCheckpoint);
    },
  };
}

export const userAuditStream = () =>
  auditJob({ stream: 'user-audit', source: 'user_v1', accountId: null, pages: v1Pages('/user/audit_logs') });

export const accountAuditStream = (accountId: string) =>
  auditJob({ stream: `account-audit:${accountId}`, source: 'account_v2', accountId, pages: v2Pages(`/accounts/${accountId}/logs/audit`) });

export const accountAuditV1Stream = (accountId: string) =>
  auditJob({ stream: `account-audit-v1:${accountId}`, source: 'account_v1', accountId, pages: v1Pages(`/accounts/${accountId}/audit_logs`) });
