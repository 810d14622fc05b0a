import { Command, Option } from 'commander';
import { loggerFor, MissingCredentialsError, openApp } from './app.js';
import { registerAccess } from './cli/access.js';
import { registerAudit } from './cli/audit.js';
import { registerDaemon } from './cli/daemon.js';
import { registerEmbedded } from './cli/embedded.js';
import { registerFindings } from './cli/findings.js';
import { registerFix } from './cli/fix.js';
import { registerHistory } from './cli/history.js';
import { cliKit, intArg, print, severityArg } from './cli/kit.js';
import { registerReview } from './cli/review.js';
import { alertCommand, formatAlertsSummary } from './commands/alert.js';
import { alertsTestCommand } from './commands/alerts-test.js';
import { checkCommand, formatCheckSummary } from './commands/check.js';
import { reportError } from './commands/cli-errors.js';
import { doctorCommand } from './commands/doctor.js';
import { createProgress } from './commands/progress.js';
import { formatOutcomes } from './commands/report.js';
import { formatRules, listRules } from './commands/rules.js';
import { runOnce } from './commands/run.js';
import { formatSummary, storeSummary } from './commands/summary.js';
import { type SuppressOptions, suppressCommand } from './commands/suppress.js';
import { type Config, hasCredentials } from './config.js';
import { unknownEnvWarnings } from './config/unknown-env.js';
import { credentialAccesses } from './credentials/access.js';
import { runMigrations } from './db/migrate.js';
import { openBySeverity } from './db/queries/finding-detail.js';
import { loadRuleSet } from './rules/engine.js';
import { assertKnownRule, knownRuleIds } from './rules/known-ids.js';
import { SEVERITIES, type Severity } from './rules/types.js';
import { ALL_KINDS } from './sync/catalog.js';
import { preserveExitCode } from './util/exit-code.js';
import { createTerminal } from './util/terminal.js';
import { version } from './util/version.js';

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
    if (app.psqlHint) print('\nexplore it:\n  npx flarewatch psql\n  npx flarewatch findings\n  npx flarewatch status');
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
    .option('-v, --verbose', 'show log lines at info level (default: warnings only; the daemon logs at info; LOG_LEVEL sets any level)')
    // Usage errors exit 2 in every command (commander's default is 1, which `check` means as "a rule failed").
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`flarewatch: ${text.replace(/^error: /, '')}`) });

  const kit = cliKit(program);
  const { load, noDemo, respond } = kit;

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
      await respond((app) => checkCommand(app.ctx, { failOn: o.failOn, json: o.json, baseline: o.baseline }));
    });

  program
    .command('alert')
    .description('deliver pending alerts once (and reminders that are due); --digest also sends the digest now; exit 1 if a send failed')
    .option('--digest', 'also send the digest-mode sinks their digest now')
    .action(async (o: { digest?: boolean }) => {
      await respond((app) => alertCommand(app.ctx, { digest: o.digest }));
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

  registerFindings(kit);

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

  registerAudit(kit);
  registerHistory(kit);
  registerAccess(kit);
  registerReview(kit);
  registerFix(kit);

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
      await respond(async (app) => {
        if (rule && rule !== '*' && !o.list && o.remove === undefined) assertKnownRule(rule, knownRuleIds(app.ctx.config), 'suppress');
        return suppressCommand(app.ctx, rule, pattern, o);
      });
    });

  registerEmbedded(kit);
  registerDaemon(kit);
  return program;
}

export async function main(argv: string[]): Promise<void> {
  preserveExitCode();
  for (const line of unknownEnvWarnings()) process.stderr.write(`flarewatch: ${line}\n`);
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    process.exitCode = reportError(err);
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/src/cli.ts')) await main(process.argv);
