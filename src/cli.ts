import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { loggerFor, MissingCredentialsError, openApp } from './app.js';
import { alertCommand, formatAlertsSummary } from './commands/alert.js';
import { alertsTestCommand } from './commands/alerts-test.js';
import { auditVerifyCommand } from './commands/audit-verify.js';
import { checkCommand, formatCheckSummary } from './commands/check.js';
import { cliConfig, type CliConfigOptions } from './commands/cli-config.js';
import { reportError } from './commands/cli-errors.js';
import { dbCommand, psqlCommand } from './commands/db.js';
import { demo } from './commands/demo.js';
import { doctorCommand } from './commands/doctor.js';
import { exportFindings, FINDINGS_FORMATS, type ExportFormat } from './commands/findings-export.js';
import { findingsShowCommand } from './commands/findings-show.js';
import { historyMemberCommand, historyTokenCommand } from './commands/history.js';
import { reviewAttestCommand, reviewExportCommand, reviewListCommand, reviewStartCommand, reviewStatusCommand } from './commands/review.js';
import { reviewDiffCommand } from './commands/review-diff.js';
import { EXPORT_FORMATS, type ReviewExportFormat } from './review/export.js';
import { ackCommand } from './commands/findings.js';
import { formatRules, listRules } from './commands/rules.js';
import { simulatorCommand } from './commands/simulator.js';
import { describeSimCredential } from './simulator/index.js';
import { type SuppressOptions, suppressCommand } from './commands/suppress.js';
import { loadRuleSet } from './rules/engine.js';
import { rulesForControl } from './compliance/controls.js';
import { assertKnownRule, knownRuleIds } from './rules/known-ids.js';
import { SEVERITIES, type Severity } from './rules/types.js';
import { createProgress } from './commands/progress.js';
import { formatOutcomes } from './commands/report.js';
import { runOnce } from './commands/run.js';
import { schedulerCommand } from './commands/scheduler.js';
import { startCommand } from './commands/start.js';
import { statusCommand } from './commands/status.js';
import { workerCommand } from './commands/worker.js';
import { formatSummary, storeSummary } from './commands/summary.js';
import { ruleIdsWithFindings, openBySeverity } from './db/queries/finding-detail.js';
import { type Config, hasCredentials } from './config.js';
import { credentialAccesses } from './credentials/access.js';
import { preserveExitCode } from './util/exit-code.js';
import { parseDuration } from './util/duration.js';
import { UsageError } from './util/usage-error.js';
import { version } from './util/version.js';
import { createTerminal } from './util/terminal.js';
import { runMigrations } from './db/migrate.js';
import { ALL_KINDS } from './sync/catalog.js';

// Output goes nowhere once the reader has gone (`findings --csv | head -3`): the command still
// finishes and closes its database, quietly, instead of dying of EPIPE.
let stdoutGone = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  stdoutGone = true;
});
const print = (s: string) => {
  if (!stdoutGone) process.stdout.write(`${s}\n`);
};

const intArg = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('not an integer');
  return n;
};

const durationArg = (v: string) => {
  const ms = parseDuration(v);
  if (ms === undefined) throw new InvalidArgumentError('not a duration (e.g. 90m, 2h, 1d)');
  return ms;
};

const severityArg = (v: string): Severity => {
  if (!(SEVERITIES as readonly string[]).includes(v)) throw new InvalidArgumentError(`one of ${SEVERITIES.join(', ')}`);
  return v as Severity;
};

async function oneShot(config: Config, streams: string[] | undefined, summary: boolean, opts: { confirmDeletions?: boolean; baseline?: boolean } = {}): Promise<boolean> {
  // On a terminal, log lines and progress bars share stderr: the bars print the lines above themselves.
  const terminal = createTerminal();
  const app = await openApp(config, { requireCredentials: true, log: loggerFor(config, terminal) });
  const progress = createProgress(app.ctx.log, terminal);
  try {
    const result = await runOnce({ ...app.ctx, progress }, { streams, checks: summary, ...opts });
    progress.stop();
    for (const line of result.credentialFailures) print(`✗ ${line}`);
    print(formatOutcomes(result.outcomes));
    if (result.checks) print(`\nchecks:\n${formatCheckSummary(result.checks, await openBySeverity(app.ctx.db))}`);
    if (result.alerts) print(`\nalerts:\n${formatAlertsSummary(result.alerts)}`);
    if (summary) print(`\n${formatSummary(await storeSummary(app.ctx.db))}`);
    if (app.psqlHint) print('\nexplore it: npx flarewatch psql   (or flarewatch findings, check, status)');
    return result.ok;
  } finally {
    progress.stop();
    await app.close();
  }
}

/** Commands are thin: parse, call, print, exit code. */
export function buildCli(): Command {
  const program = new Command('flarewatch')
    .description('Archive Cloudflare audit logs and IAM inventory into Postgres, check it, alert on it.')
    .version(version(), '-V, --version')
    .option('--demo', "use the demo's data (what `flarewatch demo` stored) instead of the configured database")
    // Usage errors exit 2 in every command (commander's default is 1, which `check` means as "a rule failed").
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`flarewatch: ${text.replace(/^error: /, '')}`) });

  const load = (opts: Omit<CliConfigOptions, 'demo'> = {}) => cliConfig({ ...opts, demo: Boolean(program.opts().demo) });
  const noDemo = (what: string) => {
    if (program.opts().demo) throw new UsageError(`${what}: --demo reads the demo's data; \`flarewatch demo\` runs it again`);
  };
  /** Open the database (no Cloudflare credential needed), run, close. */
  const withApp = async <T>(fn: (app: Awaited<ReturnType<typeof openApp>>) => Promise<T>, config = load()): Promise<T> => {
    const app = await openApp(config);
    try {
      return await fn(app);
    } finally {
      await app.close();
    }
  };

  program.command('migrate').description('apply database migrations (under an advisory lock)').action(async () => {
    const config = load();
    const app = await openApp(config, { migrate: false });
    try {
      await runMigrations(app.databaseUrl, { log: app.ctx.log });
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
      noDemo('sync');
      const ok = await oneShot(load({ overrides: { 'audit.since': o.since } }), streams, false, { confirmDeletions: o.confirmDeletions === true });
      process.exitCode = ok ? 0 : 1;
    });

  program
    .command('run')
    .description('every stream once, then the later stages; non-zero exit if a stream failed')
    .option('--since <date>', 'first audit-log backfill starts here instead of FLAREWATCH_AUDIT_BACKFILL ago')
    .option('--baseline', 'record what the checks find without per-finding alerts; each sink gets one summary')
    .action(async (o: { since?: string; baseline?: boolean }) => {
      noDemo('run');
      const ok = await oneShot(load({ overrides: { 'audit.since': o.since } }), undefined, true, { baseline: o.baseline });
      process.exitCode = ok ? 0 : 1;
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
      const config = load();
      const { output, exitCode } = await alertsTestCommand({ config, log: loggerFor(config), now: () => new Date() }, sink);
      print(output);
      process.exitCode = exitCode;
    });

  const findings = program
    .command('findings')
    .description('list findings (default: open ones), state findings and detections apart: a table, JSON, CSV, OCSF (NDJSON for SIEMs) or JUnit XML (for CI); `findings show <id>` for one, `findings ack <id…>` to acknowledge detections')
    .addOption(new Option('--severity <severity>', 'at or above this severity').argParser(severityArg))
    .option('--rule <id>', 'one rule only')
    .option('--control <control>', 'only findings of rules that support this control: CC6.1, SOC2:CC6, A.5.18, PCI:8.2 (flarewatch rules lists them)')
    .addOption(new Option('--kind <kind>', 'state findings or detections').choices(['state', 'detection']))
    .addOption(new Option('--status <status>', 'open, resolved or all').choices(['open', 'resolved', 'all']).default('open'))
    .addOption(new Option('--format <format>', 'output format').choices([...FINDINGS_FORMATS]).conflicts(['json', 'csv']))
    .addOption(new Option('--json', 'JSON array (same as --format json)').conflicts('csv'))
    .option('--csv', 'CSV with a header row (same as --format csv)')
    .action(async (o: { severity?: Severity; rule?: string; control?: string; kind?: 'state' | 'detection'; status: 'open' | 'resolved' | 'all'; format?: ExportFormat; json?: boolean; csv?: boolean }) => {
      const format: ExportFormat = o.format ?? (o.json ? 'json' : o.csv ? 'csv' : 'table');
      const output = await withApp(async (app) => {
        if (o.rule) assertKnownRule(o.rule, [...knownRuleIds(app.ctx.config), ...(await ruleIdsWithFindings(app.ctx.db))], 'findings --rule');
        const ruleIds = o.control === undefined ? undefined : rulesForControl(o.control, loadRuleSet(app.ctx.config).rules);
        return exportFindings(app.ctx, { severity: o.severity, ruleId: o.rule, ruleIds, kind: o.kind, status: o.status }, format);
      });
      print(output);
      // Right after `npm run demo`, the default embedded database is empty: say where the demo's data is.
      const config = load();
      if (output === 'no findings' && !program.opts().demo && !config.database.url && existsSync(join(config.dataDir, 'demo', 'postgres'))) {
        print("(the demo's findings are in its own database: add --demo)");
      }
    });
  findings
    .command('show')
    .description('one finding with its facts and its history')
    .argument('<id>', 'the id column of `flarewatch findings`')
    .option('--json', 'as JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const { output, exitCode } = await withApp((app) => findingsShowCommand(app.ctx, id, Boolean(o.json)));
      print(output);
      process.exitCode = exitCode;
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
    .command('doctor')
    .description('check every credential (kind, verify, each endpoint it would walk), the database, Redis and the alert sinks; exit 1 on any failure')
    .option('--send', 'also send a sample alert through every sink')
    .action(async (o: { send?: boolean }) => {
      const config = load();
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

  const history = program.command('history').description('who had what, when: every version a sync saw and the audit events about it, in one timeline');
  history
    .command('token')
    .description("one token's versions (name, status, expiry, policies, IP conditions) and the audit events on it, with each change's actor")
    .argument('<token>', 'token id, or its name')
    .option('--json', 'as JSON')
    .action(async (ref: string, o: { json?: boolean }) => {
      const { output, exitCode } = await withApp((app) => historyTokenCommand(app.ctx, ref, Boolean(o.json)));
      print(output);
      process.exitCode = exitCode;
    });
  history
    .command('member')
    .description("every membership of an email: its versions (status, roles, policies, 2FA) and the audit events on it, with each change's actor")
    .argument('<email>', "the member's email")
    .option('--json', 'as JSON')
    .action(async (email: string, o: { json?: boolean }) => {
      const { output, exitCode } = await withApp((app) => historyMemberCommand(app.ctx, email, Boolean(o.json)));
      print(output);
      process.exitCode = exitCode;
    });

  const review = program.command('review').description('access reviews: freeze who has what, record keep/revoke decisions, compare with the last review, export the evidence pack');
  const reviewId = (v: string) => intArg(v);
  review
    .command('start')
    .description('freeze a snapshot of every member and token (with grants, 2FA, last use, creator) and the open findings on them')
    .option('--account <id...>', 'only these accounts (default: every watched account)')
    .option('--name <name>', 'what to call it (default: access review <date>)')
    .option('--by <who>', 'who starts it')
    .action(async (o: { account?: string[]; name?: string; by?: string }) => {
      const { output, exitCode } = await withApp((app) => reviewStartCommand(app.ctx, { accounts: o.account, name: o.name, by: o.by }));
      print(output);
      process.exitCode = exitCode;
    });
  review
    .command('list')
    .description('every review with its scope and how many items are undecided')
    .option('--json', 'as JSON')
    .action(async (o: { json?: boolean }) => {
      const { output } = await withApp((app) => reviewListCommand(app.ctx, Boolean(o.json)));
      print(output);
    });
  review
    .command('status')
    .description('the items of a review still undecided')
    .argument('[review]', 'review id (default: the latest)', reviewId)
    .option('--json', 'as JSON')
    .action(async (id: number | undefined, o: { json?: boolean }) => {
      const { output, exitCode } = await withApp((app) => reviewStatusCommand(app.ctx, id, Boolean(o.json)));
      print(output);
      process.exitCode = exitCode;
    });
  review
    .command('attest')
    .description('record a decision on items (appended: several reviewers, each with the time; the latest decision is in force)')
    .argument('<items...>', 'item keys (review status lists them), token or member ids, or an email / token name naming one item')
    .addOption(new Option('--keep', 'the access stays').conflicts('revoke'))
    .option('--revoke', 'the access is to be removed')
    .option('--by <who>', 'who decides (required)')
    .option('--note <text>', 'why')
    .option('--review <id>', 'review id (default: the latest)', reviewId)
    .action(async (refs: string[], o: { keep?: boolean; revoke?: boolean; by?: string; note?: string; review?: number }) => {
      if (!o.keep && !o.revoke) throw new UsageError('review attest: --keep or --revoke');
      if (!o.by?.trim()) throw new UsageError('review attest: --by names who decides (required)');
      const decision = o.keep ? 'keep' : 'revoke';
      const { output, exitCode } = await withApp((app) => reviewAttestCommand(app.ctx, o.review, refs, { decision, by: o.by!, note: o.note }));
      print(output);
      process.exitCode = exitCode;
    });
  review
    .command('diff')
    .description('what was added, removed or changed since the previous review of the same scope, and since when')
    .option('--review <id>', 'the newer review (default: the latest)', reviewId)
    .option('--against <id>', 'the older review (default: the previous one of the same scope)', reviewId)
    .option('--json', 'as JSON')
    .action(async (o: { review?: number; against?: number; json?: boolean }) => {
      const { output, exitCode } = await withApp((app) => reviewDiffCommand(app.ctx, o));
      print(output);
      process.exitCode = exitCode;
    });
  review
    .command('export')
    .description('the evidence pack: scope, freshness, every item with its decision, the findings, the control references')
    .addOption(new Option('--format <format>', 'csv, md, html (one printable file) or json').choices([...EXPORT_FORMATS]).makeOptionMandatory())
    .option('--review <id>', 'review id (default: the latest)', reviewId)
    .option('--output <file>', 'write to this file instead of stdout')
    .action(async (o: { format: ReviewExportFormat; review?: number; output?: string }) => {
      const { output, exitCode } = await withApp((app) => reviewExportCommand(app.ctx, o.review, o.format, o.output));
      print(output);
      process.exitCode = exitCode;
    });

  program
    .command('rules')
    .description('list the rules (built-in and custom SQL) with their severity and thresholds as configured')
    .option('--json', 'machine-readable')
    .action((o: { json?: boolean }) => {
      const config = load();
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
    .addOption(new Option('--list', 'list suppressions').conflicts('remove'))
    .option('--json', 'with --list: JSON')
    .option('--remove <id>', 'delete a suppression', intArg)
    .action(async (rule: string | undefined, pattern: string | undefined, o: SuppressOptions) => {
      const { output, exitCode } = await withApp(async (app) => {
        if (rule && rule !== '*' && !o.list && o.remove === undefined) assertKnownRule(rule, knownRuleIds(app.ctx.config), 'suppress');
        return suppressCommand(app.ctx, rule, pattern, o);
      });
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
      const sim = await simulatorCommand(o);
      print(`Cloudflare simulator listening at ${sim.url}`);
      print(`  CLOUDFLARE_BASE_URL=${sim.url} CLOUDFLARE_API_TOKEN=${sim.credentials.apiToken}`);
      for (const c of sim.extraCredentials) print(`  ${describeSimCredential(c)}`);
      const stop = () => void sim.close().then(() => process.exit(0));
      process.once('SIGINT', stop).once('SIGTERM', stop);
    });

  program
    .command('demo')
    .description('simulator + embedded PostgreSQL + one full run, then a summary and what to try next')
    .option('--seed <n>', 'world seed', intArg, 42)
    .action(async (o: { seed: number }) => {
      // The demo prints its own summary; log lines only for warnings unless LOG_LEVEL says otherwise.
      const ok = await demo(cliConfig({ defaults: { 'log.level': 'warn' } }), { seed: o.seed, print });
      process.exitCode = ok ? 0 : 1;
    });

  program
    .command('psql')
    .description("psql on flarewatch's database (the embedded one is started for the session); arguments after -- go to psql")
    .argument('[args...]', 'psql arguments, e.g. -- -c "select count(*) from api_tokens"')
    .allowUnknownOption()
    .action(async (args: string[]) => {
      process.exitCode = await psqlCommand(load(), args);
    });

  program
    .command('db')
    .description('the embedded PostgreSQL as a server that keeps running: db start | stop | status')
    .argument('<action>', 'start, stop or status')
    .action(async (action: string) => {
      process.exitCode = await dbCommand(load(), action, print);
    });

  program
    .command('start')
    .description('the daemon: scheduler + workers in one process (REDIS_URL, or redis-server from the PATH)')
    .option('--concurrency <n>', 'sync jobs at once (default FLAREWATCH_WORKER_CONCURRENCY)', intArg)
    .action((o: { concurrency?: number }) => (noDemo('start'), startCommand(load({ overrides: { 'daemon.concurrency': o.concurrency } }))));

  program
    .command('worker')
    .description('take jobs from the queues (needs REDIS_URL); run as many as you like, on any machine')
    .option('--concurrency <n>', 'sync jobs at once (default FLAREWATCH_WORKER_CONCURRENCY)', intArg)
    .action((o: { concurrency?: number }) => (noDemo('worker'), workerCommand(load({ overrides: { 'daemon.concurrency': o.concurrency } }))));

  program
    .command('scheduler')
    .description('enqueue the cron rounds (needs REDIS_URL); replicas never double a job')
    .action(() => (noDemo('scheduler'), schedulerCommand(load())));

  program
    .command('status')
    .description("each stream's checkpoint, lag and last error; exit 1 when one is failing or lags past --max-lag")
    .option('--json', 'machine-readable')
    .option('--max-lag <duration>', 'a stream lagging more than this needs attention', durationArg, 2 * 3_600_000)
    .action(async (o: { json?: boolean; maxLag: number }) => {
      process.exitCode = await statusCommand(load(), { json: o.json, maxLagMs: o.maxLag }, print);
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  preserveExitCode();
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/src/cli.ts')) await main(process.argv);
