import { Command, CommanderError, Option } from 'commander';
import { registerAccess } from './cli/access.js';
import { registerAudit } from './cli/audit.js';
import { registerChecks } from './cli/checks.js';
import { registerDaemon } from './cli/daemon.js';
import { registerEmbedded } from './cli/embedded.js';
import { registerFindings } from './cli/findings.js';
import { registerFix } from './cli/fix.js';
import { registerHistory } from './cli/history.js';
import { cliKit, widthArg } from './cli/kit.js';
import { registerReview } from './cli/review.js';
import { registerSync } from './cli/sync.js';
import { commanderExitCode } from './commands/commander-exit.js';
import { unknownEnvWarnings } from './config/unknown-env.js';
import { preserveExitCode } from './util/exit-code.js';
import { version } from './util/version.js';

/**
 * Commands are thin: parse, call, print, exit code. Building the program imports no command's
 * implementation (no database driver, queue, HTTP client or simulator): each action imports its
 * own, so `--help` answers at the cost of commander alone (bench/startup.ts, test/integration/cli-startup.test.ts).
 */
export function buildCli(): Command {
  const program = new Command('flarewatch')
    .description('Archive Cloudflare audit logs and IAM inventory into Postgres, check it, alert on it.')
    .version(version(), '-V, --version')
    .option('--demo', "use the demo's data (what `flarewatch demo` stored) instead of the configured database")
    .option('-v, --verbose', 'show log lines at info level (default: warnings only; the daemon logs at info; LOG_LEVEL sets any level)')
    .addOption(new Option('--wide', 'tables in full, however wide (the default when output is piped)').conflicts('width'))
    .option('--width <columns>', "fit tables to this width (default: the terminal's width when output is a terminal)", widthArg)
    // Every command's help lists these too: they are given after the command as often as before it.
    .configureHelp({ showGlobalOptions: true })
    // Usage errors exit 2 in every command (commander's default is 1, which `check` means as "a rule failed").
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`flarewatch: ${text.replace(/^error: /, '')}`) });

  const kit = cliKit(program);
  registerSync(kit);
  registerChecks(kit);
  registerFindings(kit);
  registerAudit(kit);
  registerHistory(kit);
  registerAccess(kit);
  registerReview(kit);
  registerFix(kit);
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
    // Help and parse errors end here without loading the error reporter (it reads the configuration).
    process.exitCode = err instanceof CommanderError ? commanderExitCode(err) : (await import('./commands/cli-errors.js')).reportError(err);
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/src/cli.ts')) await main(process.argv);
