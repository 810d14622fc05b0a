import { join } from 'node:path';
import { openApp } from '../app.js';
import type { Config } from '../config.js';
import { startSimulator } from '../simulator/index.js';
import { formatAlertsSummary } from './alert.js';
import { formatCheckSummary } from './check.js';
import { formatOutcomes } from './report.js';
import { runOnce } from './run.js';
import { formatSummary, storeSummary } from './summary.js';

/**
 * Everything on embedded defaults: a simulated Cloudflare organisation, an embedded
 * PostgreSQL (kept in <data dir>/demo, apart from real data), one full run, a summary.
 */
export async function demo(base: Config, opts: { seed: number; print: (s: string) => void }): Promise<boolean> {
  const sim = await startSimulator({ seed: opts.seed });
  const config: Config = {
    ...base,
    cloudflare: {
      ...base.cloudflare, baseUrl: sim.url, apiToken: sim.credentials.apiToken, email: undefined, apiKey: undefined, accounts: [],
      credentials: [{ name: 'default', apiToken: sim.credentials.apiToken, accounts: [], rateLimit: base.cloudflare.rateLimit }],
    },
    database: { ...base.database, url: undefined },
    dataDir: join(base.dataDir, 'demo'),
    embeddedPostgresPort: base.embeddedPostgresPort + 1,
    sync: { ...base.sync, streams: [] },
    // Alerts go to the log sink only, one line each at info: below the demo's log level, counted in the summary.
    alerts: { ...base.alerts, sinks: { log: { kind: 'log', mode: 'immediate', minSeverity: 'info', rules: [], settings: { level: 'info', digestMaxEvents: 100 } } } },
  };
  const app = await openApp(config);
  try {
    opts.print(`simulated Cloudflare at ${sim.url} (seed ${opts.seed})\n`);
    const result = await runOnce(app.ctx);
    opts.print(formatOutcomes(result.outcomes));
    if (result.checks) opts.print(`\nchecks:\n${formatCheckSummary(result.checks)}`);
    if (result.alerts) opts.print(`\nalerts (log sink):\n${formatAlertsSummary(result.alerts)}`);
    opts.print(`\nstored in PostgreSQL:\n${formatSummary(await storeSummary(app.ctx.db))}`);
    opts.print(`\nexplore it:  ${app.psqlHint}`);
    opts.print(`  e.g. select name, status, expires_on from api_tokens where deleted_at is null order by expires_on nulls first;`);
    return result.ok;
  } finally {
    await app.close();
    await sim.close();
  }
}
