import { Option } from 'commander';
import type { SuppressOptions } from '../commands/suppress.js';
import { SEVERITIES, type Severity } from '../config/severity.js';
import { type CliKit, intArg, print, severityArg } from './kit.js';

/** `check`, `alert`, `alerts test`, `doctor`, `rules`, `suppress`: reading the store, judging it, telling someone. */
export function registerChecks(kit: CliKit): void {
  const { program } = kit;
  program
    .command('check')
    .description('run every rule once over what is stored; exit 3 when --fail-on is reached, 1 when a rule failed')
    .option('--fail-on <severity>', `exit 3 if an open, unsuppressed finding is at or above it (${SEVERITIES.join('|')})`, severityArg)
    .option('--json', 'machine-readable summary')
    .option('--baseline', 'record what this run finds without per-finding alerts; each sink gets one summary')
    .action(async (o: { failOn?: Severity; json?: boolean; baseline?: boolean }) => {
      const { checkCommand } = await import('../commands/check.js');
      await kit.respond((app) => checkCommand(app.ctx, { failOn: o.failOn, json: o.json, baseline: o.baseline }));
    });

  program
    .command('alert')
    .description('deliver pending alerts once (and reminders that are due); --digest also sends the digest now; exit 1 if a send failed')
    .option('--digest', 'also send the digest-mode sinks their digest now')
    .action(async (o: { digest?: boolean }) => {
      const { alertCommand } = await import('../commands/alert.js');
      await kit.respond((app) => alertCommand(app.ctx, { digest: o.digest }));
    });

  program
    .command('alerts')
    .description('alert sinks')
    .command('test')
    .description('send a sample alert through one configured sink; non-zero exit with its error')
    .argument('<sink>', 'sink name from the config (slack, webhook, pagerduty, email for the env shortcuts; log)')
    .action(async (sink: string) => {
      // No database needed: the sample goes straight to the sink.
      const config = await kit.load();
      const { loggerFor } = await import('../app.js');
      const { alertsTestCommand } = await import('../commands/alerts-test.js');
      const { output, exitCode } = await alertsTestCommand({ config, log: loggerFor(config), now: () => new Date() }, sink);
      print(output);
      process.exitCode = exitCode;
    });

  program
    .command('doctor')
    .description('check every credential (kind, verify, each endpoint it would walk), the database, Redis and the alert sinks; exit 1 on any failure')
    .option('--send', 'also send a sample alert through every sink')
    .action(async (o: { send?: boolean }) => {
      const config = await kit.load();
      const { loggerFor, MissingCredentialsError } = await import('../app.js');
      const { hasCredentials } = await import('../config.js');
      const { credentialAccesses } = await import('../credentials/access.js');
      const { doctorCommand } = await import('../commands/doctor.js');
      if (!hasCredentials(config)) throw new MissingCredentialsError();
      const { output, exitCode } = await doctorCommand({ config, log: loggerFor(config), credentials: credentialAccesses(config), now: () => new Date() }, o);
      print(output);
      process.exitCode = exitCode;
    });

  program
    .command('rules')
    .description('list the rules (built-in and custom SQL) with their severity and thresholds as configured')
    .option('--json', 'machine-readable')
    .action(async (o: { json?: boolean }) => {
      const config = await kit.load();
      const { formatRules, listRules } = await import('../commands/rules.js');
      const { loadRuleSet } = await import('../rules/engine.js');
      const listing = listRules(loadRuleSet(config), config);
      print(o.json ? JSON.stringify(listing, null, 2) : formatRules(listing, kit.columns()));
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
      const { suppressCommand } = await import('../commands/suppress.js');
      const { assertKnownRule, knownRuleIds } = await import('../rules/known-ids.js');
      await kit.respond(async (app) => {
        if (rule && rule !== '*' && !o.list && o.remove === undefined) assertKnownRule(rule, knownRuleIds(app.ctx.config), 'suppress');
        return suppressCommand(app.ctx, rule, pattern, o);
      });
    });
}
