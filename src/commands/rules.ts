import type { Config } from '../config.js';
import { resolveRuleSettings } from '../rules/config.js';
import type { RuleSet } from '../rules/engine.js';

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
  thresholds: Array<{ name: string; description: string; default: unknown; value: unknown }>;
  problems: string[];
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
      rationale: rule.rationale,
      remediation: rule.remediation,
      requires: rule.requires ?? [],
      thresholds: Object.entries(rule.thresholds ?? {}).map(([name, spec]) => ({ name, description: spec.description, default: spec.default, value: s.thresholds[name] })),
      problems: s.problems,
    };
  });
  return { rules, problems: set.problems };
}

const show = (v: unknown) => (Array.isArray(v) ? v.join(',') : String(v));

export function formatRules(listing: ReturnType<typeof listRules>): string {
  const blocks = listing.rules.map((r) => {
    const flags = [r.severity + (r.severity !== r.defaultSeverity ? ` (default ${r.defaultSeverity})` : ''), r.enabled ? 'enabled' : 'DISABLED', r.source];
    const lines = [`${r.id} — ${r.title}`, `  ${flags.join(' · ')}`];
    if (r.rationale) lines.push(`  why: ${r.rationale}`);
    if (r.remediation) lines.push(`  fix: ${r.remediation}`);
    if (r.requires.length) lines.push(`  needs: ${r.requires.join(', ')}`);
    for (const t of r.thresholds) {
      const changed = show(t.value) !== show(t.default) ? ` (default ${show(t.default)})` : '';
      lines.push(`  ${t.name} = ${show(t.value)}${changed}: ${t.description}`);
    }
    for (const p of r.problems) lines.push(`  ✗ ${p}`);
    return lines.join('\n');
  });
  const problems = listing.problems.map((p) => `✗ ${p.file}: ${p.error}`);
  return [...blocks, ...(problems.length ? ['custom rules that could not be loaded:', ...problems] : [])].join('\n\n') || 'no rules';
}
