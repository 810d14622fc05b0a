import { join } from 'node:path';
import { type Config, ConfigError, loadConfig } from '../config.js';
import { checkRuleSettingIds, ruleSettingProblems } from '../rules/known-ids.js';

/**
 * The demo's data: its own embedded PostgreSQL in <data dir>/demo on the next port, whatever
 * DATABASE_URL says, so `--demo` points any command at what `flarewatch demo` stored.
 */
export function demoProfile(config: Config): Config {
  return {
    ...config,
    database: { ...config.database, url: undefined },
    dataDir: join(config.dataDir, 'demo'),
    embeddedPostgresPort: config.embeddedPostgresPort + 1,
  };
}

export interface CliConfigOptions {
  overrides?: Record<string, unknown>;
  defaults?: Record<string, unknown>;
  demo?: boolean;
}

/** How every command reads its configuration: the schema, then the rule ids under `rules:`, then the demo profile. */
export function cliConfig(opts: CliConfigOptions = {}, env: NodeJS.ProcessEnv = process.env): Config {
  let config: Config;
  try {
    config = loadConfig(env, opts.overrides, opts.defaults);
  } catch (err) {
    // Every mistake at once: an unknown rule id is reported with the schema's problems, not after they are fixed.
    if (!(err instanceof ConfigError) || !err.input) throw err;
    const rulesDir = typeof err.input.rulesDir === 'string' ? err.input.rulesDir : './rules';
    const rules = err.input.rules && typeof err.input.rules === 'object' ? Object.keys(err.input.rules) : [];
    throw new ConfigError([...err.problems, ...ruleSettingProblems(rules, rulesDir)]);
  }
  checkRuleSettingIds(config);
  return opts.demo ? demoProfile(config) : config;
}
