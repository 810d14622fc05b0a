import { type Command, InvalidArgumentError } from 'commander';
import type { App } from '../app.js';
import type { CliConfigOptions } from '../commands/cli-config.js';
import type { Config } from '../config.js';
import { SEVERITIES, type Severity } from '../config/severity.js';
import { parseDuration } from '../util/duration.js';
import { UsageError } from '../util/usage-error.js';

// Output goes nowhere once the reader has gone (`findings --csv | head -3`): the command still
// finishes and closes its database, quietly, instead of dying of EPIPE.
let stdoutGone = false;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  stdoutGone = true;
});
export const print = (s: string) => {
  if (!stdoutGone) process.stdout.write(`${s}\n`);
};

export const intArg = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('not an integer');
  return n;
};

/** A terminal width: a whole number of columns, at least 20 (narrower, no table can be read). */
export const widthArg = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 20) throw new InvalidArgumentError('a number of columns, at least 20');
  return n;
};

export const durationArg = (v: string) => {
  const ms = parseDuration(v);
  if (ms === undefined) throw new InvalidArgumentError('not a duration (e.g. 90m, 2h, 1d)');
  return ms;
};

export const severityArg = (v: string): Severity => {
  if (!(SEVERITIES as readonly string[]).includes(v)) throw new InvalidArgumentError(`one of ${SEVERITIES.join(', ')}`);
  return v as Severity;
};

/**
 * What every command group needs from the program: its configuration (honouring --demo) and the
 * database. Loaded when a command runs, never when the program is built: `--help` reads names,
 * options and descriptions only, so a command's implementation is imported in its action.
 */
export interface CliKit {
  program: Command;
  load(opts?: Omit<CliConfigOptions, 'demo'>): Promise<Config>;
  /** Refuse --demo for a command that would write to or walk something other than the demo's data. */
  noDemo(what: string): void;
  /**
   * How wide tables may be: `--width`, else the terminal's width when stdout is one; unset when
   * piped or with `--wide`, so scripts and files get every character.
   */
  columns(): number | undefined;
  /** Open the database (no Cloudflare credential needed), run, close. */
  withApp<T>(fn: (app: App) => Promise<T>, config?: Config): Promise<T>;
  /** A command answering `{ output, exitCode }` on the database: run it, print, set the exit code. */
  respond(fn: (app: App) => Promise<{ output: string; exitCode?: number }>): Promise<void>;
}

export function cliKit(program: Command): CliKit {
  // Interactive commands print their answer, not log lines: warnings and errors only, unless
  // -v or LOG_LEVEL (or the config file) asks. The daemon's commands pass `log.level: info` as their default.
  const load = async (opts: Omit<CliConfigOptions, 'demo'> = {}) => {
    const { cliConfig } = await import('../commands/cli-config.js');
    const verbose = program.opts().verbose ? { 'log.level': 'info' } : {};
    return cliConfig({ ...opts, defaults: { 'log.level': 'warn', ...opts.defaults }, overrides: { ...verbose, ...opts.overrides }, demo: Boolean(program.opts().demo) });
  };
  const columns = (): number | undefined => {
    const o = program.opts<{ wide?: boolean; width?: number }>();
    if (o.wide) return undefined;
    return o.width ?? (process.stdout.isTTY ? process.stdout.columns || 80 : undefined);
  };
  const withApp = async <T>(fn: (app: App) => Promise<T>, config?: Config): Promise<T> => {
    const { openApp } = await import('../app.js');
    const app = await openApp(config ?? (await load()));
    app.ctx.columns = columns();
    try {
      return await fn(app);
    } finally {
      await app.close();
    }
  };
  return {
    program,
    load,
    columns,
    noDemo(what) {
      if (program.opts().demo) throw new UsageError(`${what}: --demo reads the demo's data; \`npx flarewatch demo\` runs it again`);
    },
    withApp,
    async respond(fn) {
      const { output, exitCode } = await withApp(fn);
      print(output);
      if (exitCode !== undefined) process.exitCode = exitCode;
    },
  };
}
