import { controlLabel } from '../compliance/controls.js';
import type { Config } from '../config.js';
import { resolveRuleSettings } from '../rules/config.js';
import type { RuleSet } from '../rules/engine.js';
import { wrapLine } from '../util/table.js';

export interface RuleListing {
  id: string;
  title: string;
  severity: string;
  defaultSeverity: string;
  enabled: boolean;
  source: string;
  rationale: string;
  remediation: string;
  requires: string[];
  /** The controls the rule supports (FRAMEWORK:ID). */
  controls: string[];
  kind: 'state' | 'detection';
  thresholds: Array<{ name: string; description: string; default: unknown; value: unknown }>;
  problems: string[];
  /** Settings given in an old form and rewritten. */
  notes: string[];
}

/** Every rule with its settings as config makes them (defaults beside the effective values). */
export function listRules(set: RuleSet, config: Config): { rules: RuleListing[]; problems: RuleSet['problems'] } {
  const rules = set.rules.map((rule) => {
    const s = resolveRuleSettings(rule, config);
    return {
      id: rule.id,
      title: rule.title,
      severity: s.severity,
      defaultSeverity: rule.severity,
      enabled: s.enabled,
      source: (rule as { source?: string }).source ?? 'built-in',
      kind: rule.kind ?? 'state',
      rationale: rule.rationale,
      remediation: rule.remediation,
      requires: rule.requires ?? [],
      controls: rule.controls ?? [],
      thresholds: Object.entries(rule.thresholds ?? {}).map(([name, spec]) => ({ name, description: spec.description, default: spec.default, value: s.thresholds[name] })),
      problems: s.problems,
      notes: s.notes,
    };
  });
  return { rules, problems: set.problems };
}

/** `30,7,1`; tiers as `30d low, 7d medium`; other objects as JSON. */
const show = (v: unknown): string => {
  if (!Array.isArray(v)) return typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  return v.map((x) => (x && typeof x === 'object' && 'days' in x && 'severity' in x ? `${x.days}d ${x.severity}` : show(x))).join(', ');
};

export function formatRules(listing: ReturnType<typeof listRules>, width?: number): string {
  const blocks = listing.rules.map((r) => {
    const flags = [r.severity + (r.severity !== r.defaultSeverity ? ` (default ${r.defaultSeverity})` : ''), r.kind, r.enabled ? 'enabled' : 'DISABLED', r.source];
    const lines = [`${r.id} — ${r.title}`, `  ${flags.join(' · ')}`];
    if (r.rationale) lines.push(`  why: ${r.rationale}`);
    if (r.remediation) lines.push(`  fix: ${r.remediation}`);
    if (r.requires.length) lines.push(`  needs: ${r.requires.join(', ')}`);
    if (r.controls.length) lines.push(`  controls: ${r.controls.map(controlLabel).join(' · ')}`);
    for (const t of r.thresholds) {
      const changed = show(t.value) !== show(t.default) ? ` (default ${show(t.default)})` : '';
      lines.push(`  ${t.name} = ${show(t.value)}${changed}: ${t.description}`);
    }
    for (const n of r.notes) lines.push(`  ! ${n}`);
    for (const p of r.problems) lines.push(`  ✗ ${p}`);
    return lines.map((l) => wrapLine(l, width)).join('\n');
  });
  const problems = listing.problems.map((p) => `✗ ${p.file}: ${p.error}`);
  return [...blocks, ...(problems.length ? ['custom rules that could not be loaded:', ...problems] : [])].join('\n\n') || 'no rules';
}
