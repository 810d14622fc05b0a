import { ConfigError, type Config } from '../config.js';
import { didYouMean } from '../util/did-you-mean.js';
import { UsageError } from '../util/usage-error.js';
import { loadRuleSet } from './engine.js';

/** Every rule id flarewatch knows now: built-in, custom SQL, and custom files that failed to load. */
export function knownRuleIds(config: Pick<Config, 'rulesDir'>): string[] {
  const set = loadRuleSet(config);
  return [...set.rules.map((r) => r.id), ...set.problems.map((p) => p.ruleId)];
}

/** One line per `rules:` id that names no rule. */
export function ruleSettingProblems(given: string[], rulesDir: string): string[] {
  if (!given.length) return [];
  const known = knownRuleIds({ rulesDir });
  return given.filter((id) => !known.includes(id)).map((id) => `rules.${id}: unknown rule${didYouMean(id, known)} (see npx flarewatch rules)`);
}

/** A `rules:` entry under a misspelt id would leave the rule meant to be disabled running: refuse it. */
export function checkRuleSettingIds(config: Config): void {
  const problems = ruleSettingProblems(Object.keys(config.rules), config.rulesDir);
  if (problems.length) throw new ConfigError(problems);
}

/** For --rule and suppress: a rule id flarewatch knows (or one with findings stored), else a usage error. */
export function assertKnownRule(id: string, known: readonly string[], what: string): void {
  if (!known.includes(id)) throw new UsageError(`${what}: unknown rule "${id}"${didYouMean(id, known)}; npx flarewatch rules lists them`);
}
