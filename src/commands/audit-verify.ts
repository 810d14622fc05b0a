import type { Context } from '../context.js';
import { preflight } from '../credentials/identity.js';
import { verifySummaries } from '../db/queries/audit-verifications.js';
import { PreflightError } from './run.js';
import { runVerify, type VerifyOptions, type VerifyReport } from '../verify/run.js';

/** One line per stream: what was verified now, how far the archive is proven complete, the gaps. */
export function formatVerify(report: VerifyReport, through: Map<string, string | null>): string {
  const lines = [`requests: ${report.requests} of a budget of ${report.budget} (estimated ${report.estimate})${report.incomplete ? ' — budget reached: run again to verify the rest' : ''}`];
  for (const s of report.streams) {
    if (s.skipped) {
      lines.push(`${s.stream}: not verified (${s.skipped})`);
      continue;
    }
    const gapText = s.gaps.length ? `${s.gaps.length} day(s) with gaps` : 'no gaps';
    lines.push(`${s.stream}: ${s.verified.length} of ${s.due} due day(s) verified, ${s.repaired.length} repaired, ${gapText}; verified through ${through.get(s.stream) ?? 'never'} (${s.requests} requests)`);
    for (const g of s.gaps) lines.push(`  gap ${g.day}: archived ${g.archived}, Cloudflare ${g.api} (${g.missing} missing)`);
    for (const r of s.repaired) lines.push(`  repaired ${r.day}: ${r.status === 'repaired' ? 'complete now' : `still ${r.missing} missing`} (archived ${r.archived}, Cloudflare ${r.api})`);
  }
  return lines.join('\n');
}

/** `flarewatch audit verify`: exit 0 when no day has a gap left, 1 otherwise. */
export async function auditVerifyCommand(ctx: Context, opts: VerifyOptions & { json?: boolean }): Promise<{ output: string; exitCode: number }> {
  const check = await preflight(ctx);
  if (check.fatal) throw new PreflightError(check.failures.map((f) => f.error));
  const usable = { ...ctx, credentials: check.usable };
  const plan = await runVerify(usable, { ...opts, estimateOnly: true });
  const due = plan.streams.reduce((s, x) => s + x.due, 0);
  const head = `audit verify: ${due} day(s) due across ${plan.streams.length} stream(s), about ${plan.estimate} request(s) (budget ${opts.maxRequests}, paced by each credential's rate limit)`;
  if (opts.estimateOnly) return { output: opts.json ? JSON.stringify(plan, null, 2) : head, exitCode: 0 };
  ctx.log.info(head);
  const report = await runVerify(usable, opts);
  const through = new Map((await verifySummaries(ctx.db)).map((s) => [s.stream, s.verifiedThrough]));
  const gaps = report.streams.some((s) => s.gaps.length > 0);
  const output = opts.json ? JSON.stringify({ ...report, verifiedThrough: Object.fromEntries(through) }, null, 2) : `${head}\n${formatVerify(report, through)}`;
  return { output, exitCode: gaps ? 1 : 0 };
}
