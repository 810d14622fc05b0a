import type { Context } from '../context.js';
import { ensureAuditPartitions, monthOf } from '../db/queries/audit-partitions.js';
import { insertAuditEntries, quarantineEntries } from '../db/queries/audit-logs.js';
import { compareDay, saveVerification } from '../db/queries/audit-verifications.js';
import { entryTimeOf } from '../sync/audit-entry.js';
import type { PageWalk } from '../sync/audit-pages.js';
import { splitPage } from '../sync/audit-stream.js';
import { type AuditWindow, placeTime } from '../sync/audit-window.js';
import { dayOf, dayStart, nextDay } from './days.js';
import type { AuditTarget } from './target.js';

export interface DayResult {
  day: string;
  archived: number;
  api: number;
  missing: number;
  status: 'ok' | 'gap' | 'repaired';
}

const SAMPLE = 20;
const iso = (ms: number) => new Date(ms).toISOString();
const windowOf = (first: string, last: string): AuditWindow =>
  ({ since: iso(dayStart(first)), before: iso(dayStart(nextDay(last))), next: {}, pages: 0, entries: 0 });

async function record(ctx: Context, pw: PageWalk, target: AuditTarget, day: string, apiIds: string[], repaired: boolean): Promise<DayResult> {
  const { archived, missing } = await compareDay(ctx.db, target.filter, day, apiIds);
  const status = missing.length ? 'gap' : repaired ? 'repaired' : 'ok';
  await saveVerification(ctx.db, {
    stream: pw.stream, day, credential: pw.credential.name, archived, api: apiIds.length, missing: missing.length,
    missingSample: missing.length ? missing.slice(0, SAMPLE) : null, status, verifiedAt: ctx.now(), repairedAt: repaired ? ctx.now() : null,
  });
  return { day, archived, api: apiIds.length, missing: missing.length, status };
}

/**
 * Verify a run of consecutive days with one walk of Cloudflare's listing over all of them: the
 * entries come in ascending time, so once an entry of day D arrives every earlier day is complete
 * and is compared with the archive. Stops cleanly when the budget runs out (the days complete so
 * far are recorded); returns what was verified.
 */
export async function verifyDays(ctx: Context, pw: PageWalk, target: AuditTarget, days: string[], stopped: (err: unknown) => boolean): Promise<DayResult[]> {
  const window = windowOf(days[0]!, days.at(-1)!);
  const ids = new Map<string, string[]>(days.map((d) => [d, []]));
  const results: DayResult[] = [];
  let next = 0;
  const flushBefore = async (day: string) => {
    for (; next < days.length && days[next]! < day; next++) results.push(await record(ctx, pw, target, days[next]!, ids.get(days[next]!)!, false));
  };
  try {
    for await (const page of target.spec.pages(pw, window, target.spec.source)) {
      let latest: string | undefined;
      for (const item of page.items) {
        const t = entryTimeOf(target.spec.source, item);
        if (t === undefined || placeTime(window, pw.now(), t) !== 'in-window') continue;
        const day = dayOf(t);
        ids.get(day)?.push(String((item as { id: unknown }).id));
        if (latest === undefined || day > latest) latest = day;
      }
      if (latest) await flushBefore(latest);
    }
  } catch (err) {
    // The budget ran out mid-walk: the days already complete are recorded, the rest wait for the next run.
    if (stopped(err)) return results;
    throw err;
  }
  await flushBefore(nextDay(days.at(-1)!));
  return results;
}

/** Refetch one gap day and archive what it lacks (inserts are idempotent), then record it again. */
export async function repairDay(ctx: Context, pw: PageWalk, target: AuditTarget, day: string): Promise<DayResult> {
  const window = windowOf(day, day);
  await ensureAuditPartitions(ctx.db, [monthOf(new Date(dayStart(day)))]);
  const apiIds: string[] = [];
  for await (const page of target.spec.pages(pw, window, target.spec.source)) {
    const { rows, bad } = splitPage(target.spec, window, pw.now(), page.items, page.position);
    await ctx.db.transaction(async (tx) => {
      await insertAuditEntries(tx, rows);
      await quarantineEntries(tx, bad);
    });
    for (const r of rows) if (placeTime(window, pw.now(), r.eventTime.getTime()) === 'in-window') apiIds.push(r.id);
  }
  return record(ctx, pw, target, day, apiIds, true);
}
