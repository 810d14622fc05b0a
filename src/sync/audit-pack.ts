import type { Context } from '../context.js';
import { forgetDroppedMonths, listAuditPartitions } from '../db/queries/audit-partitions.js';
import { monthBytes, type PackedMonth, packMonth, packWork } from '../db/queries/audit-pack.js';
import { UsageError } from '../util/usage-error.js';

/** Whether the month (YYYY-MM-01) ended more than audit.packAfterDays ago. */
export function isPackable(ctx: Context, month: string): boolean {
  const end = new Date(`${month}T00:00:00Z`);
  end.setUTCMonth(end.getUTCMonth() + 1);
  return end.getTime() + ctx.config.audit.packAfterDays * 86_400_000 <= ctx.now().getTime();
}

/**
 * Pack the closed months' entries not packed yet (every closed month, or `month`: YYYY-MM), oldest
 * first, one partition at a time, and rewrite a packed partition an earlier run could not lock. A
 * month with nothing to do is left as it is (reported with 0 entries when asked for): a second run
 * does nothing.
 */
export async function packClosedMonths(ctx: Context, opts: { month?: string } = {}): Promise<PackedMonth[]> {
  const wanted = opts.month ? `${opts.month}-01` : undefined;
  if (opts.month && !/^\d{4}-(0[1-9]|1[0-2])$/.test(opts.month)) throw new UsageError(`audit pack: --month ${opts.month} is not YYYY-MM`);
  if (wanted && !isPackable(ctx, wanted)) {
    throw new UsageError(`audit pack: ${opts.month} is not closed (it ended less than audit.packAfterDays = ${ctx.config.audit.packAfterDays} days ago)`);
  }
  const parts = (await listAuditPartitions(ctx.db)).filter((p) => (wanted ? p.month === wanted : isPackable(ctx, p.month)));
  const left = await forgetDroppedMonths(ctx.db);
  if (left.packs || left.monthIndexRows) ctx.log.warn({ ...left }, 'deleted audit packs and month-index rows left by an interrupted partition drop');
  const done: PackedMonth[] = [];
  for (const part of parts) {
    if (ctx.signal?.aborted) break;
    const work = await packWork(ctx.db, part.month);
    if (work.unpacked === 0 && !work.uncompacted) {
      if (wanted) {
        const bytes = await monthBytes(ctx.db, part.month);
        done.push({ month: part.month, partition: part.name, entries: 0, packs: 0, bytesBefore: bytes, bytesAfter: bytes, compacted: false });
      }
      continue;
    }
    const packed = await packMonth(ctx.db, part.month, work);
    done.push(packed);
    ctx.log.info({ ...packed }, 'packed a closed month of the audit archive');
  }
  return done;
}

/**
 * The daemon's and `run`'s step after retention: pack what is closed, unless audit.packAfterDays is
 * 0 (off). A failure is logged, not thrown: the checks after it still run, and the next run packs.
 */
export async function applyAuditPacking(ctx: Context): Promise<PackedMonth[]> {
  if (ctx.config.audit.packAfterDays <= 0) return [];
  try {
    return await packClosedMonths(ctx);
  } catch (err) {
    ctx.log.error({ error: (err as Error).message }, 'packing closed audit months failed; the next run tries again');
    return [];
  }
}
