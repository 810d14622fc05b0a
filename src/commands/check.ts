import type { Context } from '../context.js';
import { countFindings } from '../db/queries/findings-read.js';
import type { CheckOptions, CheckResult } from '../rules/engine.js';
import { runChecks } from './run.js';
import type { Severity } from '../rules/types.js';
import { formatCheckTable } from './check-table.js';
import { openBySeverity } from '../db/queries/finding-detail.js';

/** Exit codes of `flarewatch check`: CI tells "findings" apart from "could not check". */
export const EXIT_FINDINGS = 3;
export const EXIT_ERROR = 1;

export interface CheckCommandResult {
  result: CheckResult;
  /** Open, unsuppressed findings at or above --fail-on (of rules enabled now). */
  blocking: number;
  exitCode: number;
  output: string;
}

/** A rule-by-rule table (src/commands/check-table.ts): open findings by severity, what this run opened and resolved. */
export function formatCheckSummary(result: CheckResult, bySeverity: Map<string, Record<string, number>> = new Map(), width?: number): string {
  return formatCheckTable(result, bySeverity, width);
}

/**
 * Exit code: 3 when an open, unsuppressed finding at or above `failOn` exists, else 1 when
 * a rule failed (the check is incomplete), else 0. Disabled rules' findings never count.
 */
export async function checkCommand(ctx: Context, opts: { failOn?: Severity; json?: boolean; baseline?: boolean } & CheckOptions = {}): Promise<CheckCommandResult> {
  const result = await runChecks(ctx, opts);
  const enabled = result.outcomes.filter((o) => o.status !== 'disabled').map((o) => o.ruleId);
  const blocking = opts.failOn ? await countFindings(ctx.db, { status: 'open', unsuppressedOnly: true, severity: opts.failOn, ruleIds: enabled }) : 0;
  const exitCode = blocking > 0 ? EXIT_FINDINGS : result.ok ? 0 : EXIT_ERROR;
  const output = opts.json
    ? JSON.stringify(
        {
          checkRunId: result.checkRunId,
          ok: result.ok,
          failOn: opts.failOn ?? null,
          blocking,
          rules: result.outcomes.map((o) => ({ ...o, open: result.open.get(o.ruleId)?.open ?? 0, suppressed: result.open.get(o.ruleId)?.suppressed ?? 0 })),
        },
        null,
        2,
      )
    : formatCheckSummary(result, await openBySeverity(ctx.db), ctx.columns) + (opts.failOn ? `\n\n${blocking} open finding(s) at or above ${opts.failOn}` : '');
  return { result, blocking, exitCode, output };
}
