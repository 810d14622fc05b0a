import type { CommanderError } from 'commander';

export const EXIT_USAGE = 2;

/** What commander's own ends (help, --version) exit with: 0; every other parse error is a usage error. */
const QUIET = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version', 'commander.executeSubCommandAsync']);

/** Commander has printed its message already: only the exit code is left (light, so `--help` loads nothing else). */
export const commanderExitCode = (err: CommanderError): number => (QUIET.has(err.code) ? err.exitCode : EXIT_USAGE);
