import type { Context } from '../context.js';
import type { PackedMonth } from '../db/queries/audit-pack.js';
import { packClosedMonths } from '../sync/audit-pack.js';

const mb = (b: number) => `${(b / 1_048_576).toFixed(1)} MB`;

function line(p: PackedMonth): string {
  const month = p.month.slice(0, 7);
  const ratio = p.bytesBefore > 0 ? ` (${(p.bytesAfter / p.bytesBefore).toFixed(2)}×)` : '';
  if (p.entries === 0 && p.compacted) return `${month}: packed earlier, now rewritten, ${mb(p.bytesBefore)} -> ${mb(p.bytesAfter)}${ratio}`;
  if (p.entries === 0) return `${month}: nothing to pack (every entry packed already), ${mb(p.bytesAfter)}`;
  const skipped = p.compactSkipped ? `; not compacted yet: ${p.compactSkipped} (the next run compacts)` : '';
  return `${month}: ${p.entries.toLocaleString('en-US')} entries packed into ${p.packs.toLocaleString('en-US')} packs, ${mb(p.bytesBefore)} -> ${mb(p.bytesAfter)}${ratio}${skipped}`;
}

/** `flarewatch audit pack`: one line per month packed (entries, bytes before and after). */
export async function auditPackCommand(ctx: Context, opts: { month?: string; json?: boolean }): Promise<{ output: string; exitCode: number }> {
  const done = await packClosedMonths(ctx, { month: opts.month });
  if (opts.json) return { output: JSON.stringify(done, null, 2), exitCode: 0 };
  const lines = done.map(line);
  if (!lines.length) lines.push(`no closed month with entries to pack (a month is packed once it ended more than audit.packAfterDays = ${ctx.config.audit.packAfterDays} days ago)`);
  return { output: lines.join('\n'), exitCode: 0 };
}
