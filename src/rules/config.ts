import type { Config } from '../config.js';
import { type Rule, SEVERITIES, type Severity, type ThresholdSpec } from './types.js';

/** A rule's settings after config is applied over its defaults. */
export interface RuleSettings {
  enabled: boolean;
  /** Set only when config overrides the rule's severity: it then applies to every hit. */
  severityOverride?: Severity;
  /** The rule's default severity, or the override. */
  severity: Severity;
  thresholds: Record<string, unknown>;
  /** Config keys that are wrong for this rule: the rule is reported as failed, not run on guesses. */
  problems: string[];
  /** Settings in an older form that were rewritten (rules.<id>.legacySettings). */
  notes: string[];
}

const isSeverity = (v: unknown): v is Severity => typeof v === 'string' && (SEVERITIES as readonly string[]).includes(v);

type Coerced = { ok: true; value: unknown } | { ok: false; message?: string };

/** Coerce a config value to the type of the threshold's default (YAML and env give strings), or check it with its schema. */
function coerce(value: unknown, spec: ThresholdSpec): Coerced {
  if (spec.schema) {
    const parsed = spec.schema.safeParse(value);
    return parsed.success ? { ok: true, value: parsed.data } : { ok: false, message: parsed.error.issues.map((i) => `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`).join('; ') };
  }
  const fallback = spec.default;
  if (typeof fallback === 'number') {
    const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
    return Number.isFinite(n) ? { ok: true, value: n } : { ok: false };
  }
  if (typeof fallback === 'string') return typeof value === 'string' ? { ok: true, value } : { ok: false };
  if (Array.isArray(fallback)) {
    const list = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
    if (!list) return { ok: false };
    if (typeof fallback[0] === 'number' || (fallback.length === 0 && list.every((x) => typeof x === 'number'))) {
      const nums = list.map(Number);
      return nums.every(Number.isFinite) ? { ok: true, value: nums } : { ok: false };
    }
    return { ok: true, value: list.map(String) };
  }
  return { ok: true, value };
}

export function resolveRuleSettings(rule: Rule, config: Config): RuleSettings {
  const legacy = rule.legacySettings?.(config.rules[rule.id] ?? {});
  const given = legacy?.settings ?? config.rules[rule.id] ?? {};
  const problems: string[] = [...(legacy?.problems ?? [])];
  const specs = rule.thresholds ?? {};
  const thresholds: Record<string, unknown> = Object.fromEntries(Object.entries(specs).map(([k, s]) => [k, s.default]));

  let enabled = true;
  if ('enabled' in given) {
    const v = given.enabled;
    if (typeof v === 'boolean') enabled = v;
    else if (v === 'true' || v === 'false') enabled = v === 'true';
    else problems.push(`rules.${rule.id}.enabled: expected true or false`);
  }
  let severityOverride: Severity | undefined;
  if ('severity' in given) {
    if (isSeverity(given.severity)) severityOverride = given.severity;
    else problems.push(`rules.${rule.id}.severity: expected one of ${SEVERITIES.join(', ')}`);
  }
  for (const [key, value] of Object.entries(given)) {
    if (key === 'enabled' || key === 'severity') continue;
    const spec = specs[key];
    if (!spec) {
      problems.push(`rules.${rule.id}.${key}: unknown setting (known: ${['enabled', 'severity', ...Object.keys(specs)].join(', ')})`);
      continue;
    }
    const c = coerce(value, spec);
    if (c.ok) thresholds[key] = c.value;
    else problems.push(`rules.${rule.id}.${key}: ${c.message ?? `expected a value like ${JSON.stringify(spec.default)}`}`);
  }
  return { enabled, severityOverride, severity: severityOverride ?? rule.severity, thresholds, problems, notes: legacy?.notes ?? [] };
}
