import { EXIT_NOT_FOUND, NotFoundError } from '../util/not-found.js';
import { CommanderError } from 'commander';
import { ConfigError, loadConfig, secretValues } from '../config.js';
import { scrub } from '../log.js';
import { UsageError } from '../util/usage-error.js';
import { commanderExitCode, EXIT_USAGE } from './commander-exit.js';
import { PreflightError } from './run.js';

export { EXIT_USAGE };

/**
 * Every error reaches the user as one line: usage and config mistakes exit 2, the rest 1. The
 * stack (and the error's fields) only at LOG_LEVEL=debug or trace.
 */
export function reportError(err: unknown, write: (s: string) => void = (s) => process.stderr.write(s)): number {
  if (err instanceof CommanderError) return commanderExitCode(err); // commander printed it
  if (err instanceof NotFoundError) {
    write(`flarewatch: ${err.message}\n`);
    return EXIT_NOT_FOUND;
  }
  if (err instanceof ConfigError || err instanceof UsageError) {
    write(`flarewatch: ${err.message}\n`);
    return EXIT_USAGE;
  }
  // Every credential failed its preflight: one line each, naming the credential and the host or setting.
  if (err instanceof PreflightError) {
    for (const line of err.lines) write(`flarewatch: ${line}\n`);
    if (err.lines.length === 0) write('flarewatch: no Cloudflare credential could be used (none configured)\n');
    return 1;
  }
  let config;
  try {
    config = loadConfig();
  } catch {
    config = undefined;
  }
  const secrets = config ? secretValues(config) : [];
  const message = err instanceof Error ? err.message : String(err);
  write(`flarewatch: ${scrub(message.split('\n')[0] ?? message, secrets)}\n`);
  if (config && ['debug', 'trace'].includes(config.log.level) && err instanceof Error) write(`${scrub(err.stack ?? '', secrets)}\n`);
  return 1;
}
