import { Command, InvalidArgumentError } from 'commander';
import { loggerFor, MissingCredentialsError, openApp } from './app.js';
import { doctorCommand } from './commands/doctor.js';
import { credentialAccesses } from './credentials/access.js';
import { alertCommand, formatAlertsSummary } from './commands/alert.js';
import { alertsTestCommand } from './commands/alerts-test.js';
import { auditVerifyCommand } from './commands/audit-verify.js';
import { checkCommand, formatCheckSummary } from './commands/check.js';
import { demo } from './commands/demo.js';
import { ackCommand, findingsCommand } from './commands/findings.js';
import { formatRules, listRules } from './commands/rules.js';
import { type SuppressOptions, suppressCommand } from './commands/suppress.js';
import { loadRuleSet } from './rules/engine.js';
import { SEVERITIES, type Severity } from './rules/types.js';
import { createProgress } from './commands/progress.js';
import { formatOutcomes } from './commands/report.js';
import { PreflightError, runOnce } from './commands/run.js';
import { schedulerCommand } from './commands/scheduler.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { workerCommand } from './commands/worker.js';
import { formatSummary, storeSummary } from './commands/summary.js';
import { ConfigError, hasCredentials, loadConfig, secretValues } from './config.js';
import { scrub } from './log.js';
import { preserveExitCode } from './util/exit-code.js';
import { UsageError } from './util/usage-error.js';
import { runMigrations } from './db/migrate.js';
import { describeSimCredential, simulatorOptionsSchema, startSimulator } from './simulator/index.js';
import { ALL_KINDS } from './sync/catalog.js';

const print = (s: string) => process.stdout.write(`${s}\n`);

const intArg = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('not an integer');
  return n;
};

async function oneShot(overrides: Record<string, unknown>, streams: string[] | undefined, summary: boolean, opts: { confirmDeletions?: boolean; baseline?: boolean } = {}): Promise<boolean> {
  const config = loadConfig(process.env, overrides);
  const app = await openApp(config, { requireCredentials: true });
  const progress = createProgress(app.ctx.log);
  try {
    const result = await runOnce({ ...app.ctx, progress }, { streams, checks: summary, ...opts });
    progress.stop();
    for (const line of result.credentialFailures) print(`✗ ${line}`);
    print(formatOutcomes(result.outcomes));
    if (result.checks) print(`\nchecks:\n${formatCheckSummary(result.checks)}`);
    if (result.alerts) print(`\nalerts:\n${formatAlertsSummary(result.alerts)}`);
    if (summary) print(`\n${formatSummary(await storeSummary(app.ctx.db))}`);
    if (app.psqlHint) print(`\npsql: ${app.psqlHint}`);
    return result.ok;
  } finally {
    progress.stop();
    await app.close();
  }
}

const severityArg = (v: string): Severity => {
  if (!(SEVERITIES as readonly string[]).includes(v)) throw new InvalidArgumentError(`one of ${SEVERITIES.join(', ')}`);
  return v as Severity;
};

/** Open the database (no Cloudflare credential needed), run, close. */
async function withApp<T>(fn: (app: Awaited<ReturnType<typeof openApp>>) => Promise<T>): Promise<T> {
  const app = await openApp(loadConfig());
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/** Commands are thin: parse, call, print, exit code. */
export function buildCli(): Command {
  const program = new Command('flarewatch')
    .description('Archive Cloudflare audit logs and IAM inventory into Postgres, check it, alert on it.')
    .showHelpAfterError();

  program.command('migrate').description('apply database migrations (under an advisory lock)').action(async () => {
    const config = loadConfig();
    const app = await openApp(config, { migrate: false });
    try {
      await runMigrations(app.databaseUrl);
      print('migrations applied');
    } finally {
      await app.close();
    }
  });

  program
    .command('sync')
    .description(`walk streams once (default: all). Kinds: ${ALL_KINDS.join(', ')}; one stream as <kind>:<credential> or <kind>:<account id>`)
    .argument('[streams...]', 'stream kinds or names')
    .option('--since <date>', 'first audit-log backfill starts here instead of FLAREWATCH_AUDIT_BACKFILL ago')
    .option('--confirm-deletions', 'release deletions the mass-deletion guard holds back for these streams (see sync_state.held_deletions)')
    .action(async (streams: string[], o: { since?: string; confirmDeletions?: boolean }) => {
      const ok = await oneShot({ 'audit.since': o.since }, streams, false, { confirmDeletions: o.confirmDeletions === true });
      process.exitCode = ok ? 0 : 1;
    });

  program
    .command('run')
    .description('every stream once, then the later stages; non-zero exit if a stream failed')
    .option('--since <date>', 'first audit-log backfill starts here instead of FLAREWATCH_AUDIT_BACKFILL ago')
    .option('--baseline', 'record what the checks find without per-finding alerts; each sink gets one summary')
    .action(async (o: { since?: string; baseline?: boolean }) => {
      const ok = await oneShot({ 'audit.since': o.since }, undefined, true, { baseline: o.baseline });
      process.exitCode = ok ? 0 : 1;
    });

  program
    .command('doctor')
    .description('check every credential (kind, verify, each endpoint it would walk), the database, Redis and the alert sinks; exit 1 on any failure')
    .option('--send', 'also send a sample alert through every sink')
    .action(async (o: { send?: boolean }) => {
      const config = loadConfig();
      if (!hasCredentials(config)) throw new MissingCredentialsError();
      const log = loggerFor(config);
      const { output, exitCode } = await doctorCommand({ config, log, credentials: credentialAccesses(config), now: () => new Date() }, o);
      print(output);
      process.exitCode = exitCode;
    });

  const audit = program.command('audit').description('the audit-log archive');
  audit
    .command('verify')
    .description('check the archive against what Cloudflare holds now, day by day; exit 1 when a day has a gap')
    .argument('[streams...]', 'audit stream kinds or names (default: every audit stream)')
    .option('--since <date>', 'verify from this day (default: as far back as Cloudflare keeps entries)')
    .option('--max-requests <n>', 'request budget (default FLAREWATCH_AUDIT_VERIFY_MAX_REQUESTS)', intArg)
    .option('--repair', 'refetch the days that have gaps (idempotent)')
    .option('--estimate', 'only show the days due and the request cost')
    .option('--json', 'machine-readable report')
    .action(async (streams: string[], o: { since?: string; maxRequests?: number; repair?: boolean; estimate?: boolean; json?: boolean }) => {
      const since = o.since ? new Date(o.since) : undefined;
      if (since && Number.isNaN(since.getTime())) throw new UsageError(`audit verify: --since ${o.since} is not a date`);
      const { output, exitCode } = await withApp((app) =>
        auditVerifyCommand(app.ctx, {
          streams, since, repair: o.repair === true, estimateOnly: o.estimate === true, json: o.json,
          maxRequests: o.maxRequests ?? app.ctx.config.audit.verifyMaxRequests,
        }),
      );
      print(output);
      process.exitCode = exitCode;
    });

  program
    .command('check')
    .description('run every rule once over what is stored; exit 3 when --fail-on is reached, 1 when a rule failed')
    .option('--fail-on <severity>', `exit 3 if an open, unsuppressed finding is at or above it (${SEVERITIES.join('|')})`, severityArg)
    .option('--json', 'machine-readable summary')
    .option('--baseline', 'record what this run finds without per-finding alerts; each sink gets one summary')
    .action(async (o: { failOn?: Severity; json?: boolean; baseline?: boolean }) => {
      const { output, exitCode } = await withApp((app) => checkCommand(app.ctx, { failOn: o.failOn, json: o.json, baseline: o.baseline }));
      print(output);
      process.exitCode = exitCode;
    });

  program
    .command('alert')
    .description('deliver pending alerts once (and reminders that are due); --digest also sends the digest now; exit 1 if a send failed')
    .option('--digest', 'also send the digest-mode sinks their digest now')
    .action(async (o: { digest?: boolean }) => {
      const { output, exitCode } = await withApp((app) => alertCommand(app.ctx, { digest: o.digest }));
      print(output);
      process.exitCode = exitCode;
    });

  program
    .command('alerts')
    .description('alert sinks')
    .command('test')
    .description('send a sample alert through one configured sink; non-zero exit with its error')
    .argument('<sink>', 'sink name from the config (slack, webhook, pagerduty, email for the env shortcuts; log)')
    .action(async (sink: string) => {
      // No database needed: the sample goes straight to the sink.
      const config = loadConfig();
      const { output, exitCode } = await alertsTestCommand({ config, log: loggerFor(config), now: () => new Date() }, sink);
      print(output);
      process.exitCode = exitCode;
    });

  const findings = program
    .command('findings')
    .description('list findings (default: open ones), state findings and detections apart; a table, or --json / --csv on stdout')
    .option('--severity <severity>', 'at or above this severity', severityArg)
    .option('--rule <id>', 'one rule only')
    .option('--kind <kind>', 'state or detection')
    .option('--status <status>', 'open, resolved or all', 'open')
    .option('--json', 'JSON array')
    .option('--csv', 'CSV with a header row')
    .action(async (o: { severity?: Severity; rule?: string; kind?: string; status: string; json?: boolean; csv?: boolean }) => {
      if (!['open', 'resolved', 'all'].includes(o.status)) throw new UsageError('findings: --status must be open, resolved or all');
      if (o.kind !== undefined && o.kind !== 'state' && o.kind !== 'detection') throw new UsageError('findings: --kind must be state or detection');
      const format = o.json ? 'json' : o.csv ? 'csv' : 'table';
      const filter = { severity: o.severity, ruleId: o.rule, kind: o.kind as 'state' | 'detection' | undefined, status: o.status as 'open' | 'resolved' | 'all' };
      print(await withApp((app) => findingsCommand(app.ctx, filter, format)));
    });

  findings
    .command('ack')
    .description('acknowledge detections: resolved (reason acknowledged, who, note); incidents they opened resolve')
    .argument('<ids...>', 'finding ids (flarewatch findings shows them)', (v: string, prev: number[] = []) => [...prev, intArg(v)])
    .option('--by <who>', 'who acknowledges (required)')
    .option('--note <text>', 'what was found, what was done')
    .action(async (ids: number[], o: { by?: string; note?: string }) => {
      const { output, exitCode } = await withApp((app) => ackCommand(app.ctx, ids, o));
      print(output);
      process.exitCode = exitCode;
    });

  program
    .command('rules')
    .description('list the rules (built-in and custom SQL) with their severity and thresholds as configured')
    .option('--json', 'machine-readable')
    .action((o: { json?: boolean }) => {
      const config = loadConfig();
      const listing = listRules(loadRuleSet(config), config);
      print(o.json ? JSON.stringify(listing, null, 2) : formatRules(listing));
    });

  program
    .command('suppress')
    .description('accept a finding: suppress <rule|*> <resource-pattern> --reason "..." [--by who] [--expires 30d|DATE]; or --list, --remove <id>')
    .argument('[rule]', "rule id, or '*' for every rule")
    .argument('[pattern]', "resource key, exact or with '*' wildcards (e.g. token:abc, member:*)")
    .option('--reason <text>', 'why this is accepted (required)')
    .option('--by <who>', 'who accepted it')
    .option('--expires <when>', 'a duration from now (30d) or a date')
    .option('--list', 'list suppressions')
    .option('--json', 'with --list: JSON')
    .option('--remove <id>', 'delete a suppression', intArg)
    .action(async (rule: string | undefined, pattern: string | undefined, o: SuppressOptions) => {
      const { output, exitCode } = await withApp((app) => suppressCommand(app.ctx, rule, pattern, o));
      print(output);
      process.exitCode = exitCode;
    });

  program
    .command('simulator')
    .description('serve a simulated Cloudflare API on loopback (for tests, demos, benchmarks)')
    .option('--port <n>', 'port (0 = any free)', intArg, 8787)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--seed <n>', 'world seed', intArg, 1)
    .option('--options <json>', 'more simulator options as JSON (size, rateLimit, faults, extraCredentials, audit)', '{}')
    .action(async (o: { port: number; host: string; seed: number; options: string }) => {
      const options = simulatorOptionsSchema.parse({ ...JSON.parse(o.options), port: o.port, host: o.host, seed: o.seed });
      const sim = await startSimulator(options);
      print(`Cloudflare simulator listening at ${sim.url}`);
      print(`  CLOUDFLARE_BASE_URL=${sim.url} CLOUDFLARE_API_TOKEN=${sim.credentials.apiToken}`);
      // Local test credentials, printed whole so they can be pasted into a config.
      for (const c of sim.extraCredentials) print(`  ${describeSimCredential(c)}`);
      const stop = () => void sim.close().then(() => process.exit(0));
      process.once('SIGINT', stop).once('SIGTERM', stop);
    });

  program
    .command('demo')
    .description('simulator + embedded PostgreSQL + one full run, then a summary')
    .option('--seed <n>', 'world seed', intArg, 42)
    .action(async (o: { seed: number }) => {
      // The demo prints its own summary; log lines only for warnings unless LOG_LEVEL says otherwise.
      const ok = await demo(loadConfig(process.env, {}, { 'log.level': 'warn' }), { seed: o.seed, print });
      process.exitCode = ok ? 0 : 1;
    });

  program
    .command('start')
    .description('the daemon: scheduler + workers in one process (REDIS_URL, or redis-server from the PATH)')
    .option('--concurrency <n>', 'sync jobs at once (default FLAREWATCH_WORKER_CONCURRENCY)', intArg)
    .action((o: { concurrency?: number }) => startCommand(o));

  program
    .command('worker')
    .description('take jobs from the queues (needs REDIS_URL); run as many as you like, on any machine')
    .option('--concurrency <n>', 'sync jobs at once (default FLAREWATCH_WORKER_CONCURRENCY)', intArg)
    .action((o: { concurrency?: number }) => workerCommand(o));

  program
    .command('scheduler')
    .description('enqueue the cron rounds (needs REDIS_URL); replicas never double a job')
    .action(() => schedulerCommand());

  program
    .command('status')
    .description("each stream's checkpoint, lag and last error")
    .action(() => statusCommand(print));

  return program;
}


export async function main(argv: string[]): Promise<void> {
  preserveExitCode();
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    if (err instanceof PreflightError) {
      for (const line of err.lines) process.stderr.write(`flarewatch: ${line}\n`);
      process.exitCode = 1;
      return;
    }
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`flarewatch: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    const log = (() => {
      try {
        return loggerFor(loadConfig());
      } catch {
        return undefined;
      }
    })();
    log?.fatal({ err }, 'flarewatch stopped');
    const secrets = (() => {
      try {
        return secretValues(loadConfig());
      } catch {
        return [];
      }
    })();
    process.stderr.write(`flarewatch: ${scrub((err as Error).message, secrets)}\n`);
    process.exitCode = 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/src/cli.ts')) await main(process.argv);
