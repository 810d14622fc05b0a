import type { Context } from '../context.js';
import { exportAudit } from '../archive/export.js';
import { importAudit } from '../archive/import.js';

/** `flarewatch audit export`: one line per file written, then the manifest. */
export async function auditExportCommand(ctx: Context, opts: { out: string; months: string[]; json?: boolean }): Promise<{ output: string; exitCode: number }> {
  const report = await exportAudit(ctx, opts);
  if (opts.json) return { output: JSON.stringify(report, null, 2), exitCode: 0 };
  const lines = report.files.map((f) => `${f.file}: ${f.rows} rows, ${f.minTime ?? '-'} .. ${f.maxTime ?? '-'}`);
  if (report.files.length === 0) lines.push('no closed month with entries to export');
  for (const m of report.open) lines.push(`${m}: not closed yet (it ends less than audit.lag + audit.overlap ago); not exported`);
  lines.push(`manifest: ${report.manifest}`);
  return { output: lines.join('\n'), exitCode: 0 };
}

/** `flarewatch audit import`: exit 1 when a row of the file is archived under the same key with other content. */
export async function auditImportCommand(ctx: Context, target: string, opts: { json?: boolean }): Promise<{ output: string; exitCode: number }> {
  const done = await importAudit(ctx, target);
  const differing = done.reduce((s, f) => s + f.differing, 0);
  if (opts.json) return { output: JSON.stringify(done, null, 2), exitCode: differing ? 1 : 0 };
  const lines = done.map((f) => `${f.file}: ${f.rows} rows verified, ${f.inserted} written, ${f.rows - f.inserted} already archived${f.differing ? `, ${f.differing} archived with different content (kept as archived)` : ''}`);
  return { output: lines.join('\n'), exitCode: differing ? 1 : 0 };
}
