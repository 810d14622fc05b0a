import { loggerFor, openApp } from '../app.js';
import type { Config } from '../config.js';
import { openBySeverity } from '../db/queries/finding-detail.js';
import { createTerminal } from '../util/terminal.js';
import { formatAlertsSummary } from './alert.js';
import { formatCheckSummary } from './check.js';
import { createProgress } from './progress.js';
import { formatOutcomes } from './report.js';
import { runOnce } from './run.js';
import { formatSummary, storeSummary } from './summary.js';

/** `sync` and `run`: walk the streams once (then checks and alerts for `run`), print what happened; true when every stream succeeded. */
export async function oneShot(
  config: Config, streams: string[] | undefined, summary: boolean, print: (s: string) => void,
  opts: { confirmDeletions?: boolean; baseline?: boolean; columns?: number } = {},
): Promise<boolean> {
  // On a terminal, log lines and progress bars share stderr: the bars print the lines above themselves.
  const terminal = createTerminal();
  const app = await openApp(config, { requireCredentials: true, log: loggerFor(config, terminal) });
  const progress = createProgress(app.ctx.log, terminal);
  try {
    const { columns, ...runOpts } = opts;
    const result = await runOnce({ ...app.ctx, progress }, { streams, checks: summary, ...runOpts });
    progress.stop();
    for (const line of result.credentialFailures) print(`✗ ${line}`);
    print(formatOutcomes(result.outcomes, columns));
    if (result.checks) print(`\nchecks:\n${formatCheckSummary(result.checks, await openBySeverity(app.ctx.db), columns)}`);
    if (result.alerts) print(`\nalerts:\n${formatAlertsSummary(result.alerts)}`);
    if (summary) print(`\n${formatSummary(await storeSummary(app.ctx.db))}`);
    if (app.psqlHint) print('\nexplore it:\n  npx flarewatch psql\n  npx flarewatch findings\n  npx flarewatch status');
    return result.ok;
  } finally {
    progress.stop();
    await app.close();
  }
}
