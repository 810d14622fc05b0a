import type { Config } from '../../src/config.js';
import type { Db } from '../../src/db/client.js';
import type { Rule, RuleHit } from '../../src/rules/types.js';

/** A rule's thresholds: its defaults with the test's overrides (the engine does this from config in production). */
export function thresholdsOf(rule: Rule, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const defaults = Object.fromEntries(Object.entries(rule.thresholds ?? {}).map(([k, s]) => [k, s.default]));
  return { ...defaults, ...overrides };
}

export interface RuleEnv { db: Db; config: Config; now?: Date }

export function evaluate(rule: Rule, env: RuleEnv, overrides: Record<string, unknown> = {}): Promise<RuleHit[]> {
  return rule.evaluate({ db: env.db, pool: env.db, config: env.config, now: env.now ?? new Date(), thresholds: thresholdsOf(rule, overrides) });
}

/** Sorted resource keys: what the assertions compare. */
export const keysOf = (hits: RuleHit[]) => hits.map((h) => h.resourceKey).sort();

export function hitOf(hits: RuleHit[], key: string): RuleHit {
  const hit = hits.find((h) => h.resourceKey === key);
  if (!hit) throw new Error(`no hit ${key}; have ${keysOf(hits).join(', ')}`);
  return hit;
}

export const DAY_MS = 86_400_000;
/** ISO time `days` from now (negative = ago), to the second like the API. */
export const daysFromNow = (days: number, now = Date.now()) => new Date(Math.floor((now + days * DAY_MS) / 1000) * 1000).toISOString().replace('.000Z', 'Z');
