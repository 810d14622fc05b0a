import { ConfigError, type Config } from '../config.js';
import { didYouMean } from '../util/did-you-mean.js';
import { UsageError } from '../util/usage-error.js';
import { loadRuleSet } from './engine.js';

/** Every rule id flarewatch knows now: built-in, custom SQL, and custom files that failed to load. */
export function knownRuleIds(config: Config): string[] {
  const set = loadRuleSet(config);
  return [...set.rules.map((r) => r.id), ...set.problems.map((p) => p.ruleId)];
}

/** A `rules:` entry under a misspelt id would leave the rule meant to be disabled running: refuse it. */
export function checkRuleSettingIds(config: Config): void {
  const given = Object.keys(config.rules);
  if (!given.length) return;
  const known = knownRuleIds(config);
  const unknown = given.filter((id) => !known.includes(id));
  if (unknown.length) throw new ConfigError(unknown.map((id) => `rules.${id}: unknown rule${didYouMean(id, known)} (see flarewatch rules)`));
}

/** For --rule and suppress: a rule id flarewatch knows (or one with findings stored), else a usage error. */
export function assertKnownRule(id: string, known: readonly string[], what: string): void {
  if (!known.includes(id)) throw new UsageError(`${what}: unknown rule "${id}"${didYouMean(id, known)}; flarewatch rules lists them`);
}
