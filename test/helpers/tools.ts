import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

// The programs some suites need besides Node and the embedded PostgreSQL. Missing, such a suite
// skips with one line naming the program and how to install it; with CI=true it fails instead
// (a CI machine that lacks one would otherwise report green while testing less).

export const TOOLS = {
  'redis-server': 'apt-get install redis-server',
  chromium: 'apt-get install chromium',
  promtool: 'apt-get install prometheus, or promtool from https://prometheus.io/download',
} as const;
export type ToolName = keyof typeof TOOLS;

type Env = Record<string, string | undefined>;

/** Where `name` is on the PATH, or undefined. */
export function toolPath(name: ToolName, env: Env = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

const inCi = (env: Env) => env.CI === 'true' || env.CI === '1';

/** The line a suite prints (or throws, in CI) when `name` is missing. */
export const missingLine = (suite: string, name: ToolName, ci: boolean) =>
  `${suite}: ${ci ? 'cannot run' : 'skipped'}: ${name} is not on the PATH (${TOOLS[name]})${ci ? '; CI=true, so a missing tool fails the run' : ''}`;

/**
 * Whether the suite can run: true when `name` is on the PATH; false, after one line on stderr,
 * when it is not; with CI=true a missing tool throws (the test file fails, naming the tool).
 */
export function needTool(name: ToolName, suite: string, env: Env = process.env, warn: (line: string) => unknown = (line) => process.stderr.write(`${line}\n`)): boolean {
  if (toolPath(name, env)) return true;
  if (inCi(env)) throw new Error(missingLine(suite, name, true));
  warn(missingLine(suite, name, false));
  return false;
}
