import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openApp } from '../app.js';
import type { Config } from '../config.js';
import { openBySeverity } from '../db/queries/finding-detail.js';
import { listFindings } from '../db/queries/findings-read.js';
import { startSimulator } from '../simulator/index.js';
import { formatAlertsSummary } from './alert.js';
import { formatCheckSummary } from './check.js';
import { demoProfile } from './cli-config.js';
import { formatOutcomes } from './report.js';
import { runOnce } from './run.js';
import { formatSummary, storeSummary } from './summary.js';

import { DEMO_SEED } from './demo-seed.js';

export { DEMO_SEED };

/**
 * The simulated organisation's clock starts at the first demo's time, kept in the demo's data
 * folder: a second demo walks the same world (same token expiries, same audit entries) instead
 * of one generated again around a later "now". `--new-clock` starts it again from now.
 */
export function demoClock(dataDir: string, renew: boolean, realNow: () => number = Date.now): () => number {
  const file = join(dataDir, 'clock-anchor');
  let anchor = !renew && existsSync(file) ? Date.parse(readFileSync(file, 'utf8').trim()) : Number.NaN;
  if (Number.isNaN(anchor)) {
    anchor = realNow();
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${new Date(anchor).toISOString()}\n`);
  }
  const started = realNow();
  return () => anchor + (realNow() - started);
}

/** The commands the demo suggests, each to be pasted as printed, comments included (the test runs them). */
export function nextSteps(findingId: number | undefined, psql: boolean): string[] {
  return [
    'npx flarewatch findings --demo',
    ...(findingId ? [`npx flarewatch findings show ${findingId} --demo`] : []),
    'npx flarewatch check --demo',
    'npx flarewatch status --demo',
    'npx flarewatch findings --demo --format ocsf',
    psql
      ? `npx flarewatch psql --demo -- -c "select name, status, expires_on from api_tokens where deleted_at is null order by expires_on nulls first limit 10"`
      : '# psql is not installed: apt-get install postgresql-client, then: npx flarewatch psql --demo',
    '# keep its PostgreSQL running for other clients (npx flarewatch db stop --demo ends it):',
    'npx flarewatch db start --demo',
  ];
}

/**
 * Everything on embedded defaults: a simulated Cloudflare organisation, an embedded
 * PostgreSQL (kept in <data dir>/demo, apart from real data), one full run, a summary, and
 * commands that reach the same data afterwards (`--demo`).
 */
export async function demo(base: Config, opts: { seed: number; newClock?: boolean; print: (s: string) => void }): Promise<boolean> {
  const profile = demoProfile(base);
  const sim = await startSimulator({ seed: opts.seed, now: demoClock(profile.dataDir, opts.newClock === true) });
  const config: Config = {
    ...profile,
    cloudflare: {
      ...base.cloudflare, baseUrl: sim.url, apiToken: sim.credentials.apiToken, email: undefined, apiKey: undefined, accounts: [],
      credentials: [{ name: 'default', apiToken: sim.credentials.apiToken, accounts: [], rateLimit: base.cloudflare.rateLimit }],
    },
    sync: { ...base.sync, streams: [] },
    // Alerts go to the log sink only, one line each at info: below the demo's log level, counted in the summary.
    alerts: { ...base.alerts, sinks: { log: { kind: 'log', mode: 'immediate', minSeverity: 'info', rules: [], settings: { level: 'info', digestMaxEvents: 100 } } } },
  };
  // The simulator's server keeps the process alive: it is closed whatever fails next (a database
  // that cannot start used to leave the demo hanging after its one-line reason).
  let app: Awaited<ReturnType<typeof openApp>> | undefined;
  try {
    app = await openApp(config);
    opts.print(`simulated Cloudflare at ${sim.url} (seed ${opts.seed})\n`);
    const result = await runOnce(app.ctx);
    opts.print(formatOutcomes(result.outcomes));
    if (result.checks) opts.print(`\nchecks:\n${formatCheckSummary(result.checks, await openBySeverity(app.ctx.db))}`);
    if (result.alerts) opts.print(`\nalerts (log sink):\n${formatAlertsSummary(result.alerts)}`);
    opts.print(`\nstored in PostgreSQL (${config.dataDir}):\n${formatSummary(await storeSummary(app.ctx.db))}`);
    const [worst] = await listFindings(app.ctx.db, { status: 'open' });
    const psql = spawnSync('psql', ['--version'], { stdio: 'ignore' }).status === 0;
    opts.print(`\nnext, on the same data (--demo points any command at it):\n${nextSteps(worst?.id, psql).map((c) => `  ${c}`).join('\n')}`);
    return result.ok;
  } finally {
    await app?.close();
    await sim.close();
  }
}
