import type { Context } from '../context.js';
import { dropAuditPartition, forgetDroppedMonths, listAuditPartitions, monthOf } from '../db/queries/audit-partitions.js';

/**
 * Drop whole monthly partitions older than the retention setting (0 = keep forever).
 * A partition is dropped only when every entry in it is older than the cutoff month.
 */
export async function applyAuditRetention(ctx: Context): Promise<string[]> {
  const months = ctx.config.audit.retentionMonths;
  if (months <= 0) return [];
  const cutoff = ctx.now();
  cutoff.setUTCDate(1);
  cutoff.setUTCMonth(cutoff.getUTCMonth() - months);
  const keepFrom = monthOf(cutoff);
  const dropped: string[] = [];
  for (const part of await listAuditPartitions(ctx.db)) {
    if (part.month >= keepFrom) continue;
    await dropAuditPartition(ctx.db, part.name);
    dropped.push(part.name);
  }
  if (dropped.length) {
    // After the drops, not inside them: each drop stays O(1) whatever its month held.
    const left = await forgetDroppedMonths(ctx.db);
    ctx.log.info({ dropped, retentionMonths: months, ...left }, 'dropped audit-log partitions past retention');
  }
  return dropped;
}
