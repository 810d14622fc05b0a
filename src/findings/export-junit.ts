// Findings as a JUnit XML report for CI pipelines (GitLab, Jenkins, GitHub test reporters): one
// test case per rule, failing with its open, unsuppressed findings; disabled rules are skipped.
import type { Finding } from '../db/schema/index.js';

export interface JunitRule {
  id: string;
  title: string;
  enabled: boolean;
}

// XML 1.0 allows no control characters but tab, newline and carriage return, even escaped.
const xml = (s: string) =>
  s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');

export function formatJunit(rules: JunitRule[], open: Finding[], now: Date = new Date()): string {
  const byRule = new Map<string, Finding[]>();
  for (const f of open) if (f.status === 'open' && !f.suppressed) byRule.set(f.ruleId, [...(byRule.get(f.ruleId) ?? []), f]);
  // A rule with findings but no longer loaded (a removed custom rule) still shows, so nothing hides.
  const all = [...rules, ...[...byRule.keys()].filter((id) => !rules.some((r) => r.id === id)).map((id) => ({ id, title: id, enabled: true }))];
  const cases = all.map((r) => {
    const found = byRule.get(r.id) ?? [];
    const head = `    <testcase classname="flarewatch.rules" name="${xml(r.id)}" time="0">`;
    if (!r.enabled) return `${head}\n      <skipped message="rule disabled in config"/>\n    </testcase>`;
    if (!found.length) return `${head}</testcase>`;
    const worst = found[0]!.severity;
    const body = found.map((f) => `${f.severity} ${f.resourceKey}${f.resourceName ? ` (${f.resourceName})` : ''} — finding ${f.id}`).join('\n');
    return `${head}\n      <failure message="${xml(`${found.length} open finding(s), worst ${worst}: ${r.title}`)}" type="${xml(worst)}">${xml(body)}</failure>\n    </testcase>`;
  });
  const failures = all.filter((r) => r.enabled && byRule.has(r.id)).length;
  const skipped = all.filter((r) => !r.enabled).length;
  const attrs = `name="flarewatch" tests="${all.length}" failures="${failures}" errors="0" skipped="${skipped}" time="0" timestamp="${now.toISOString().replace(/\.\d{3}Z$/, '')}"`;
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="flarewatch" tests="${all.length}" failures="${failures}" errors="0" skipped="${skipped}" time="0">`,
    `  <testsuite ${attrs}>`,
    ...cases,
    '  </testsuite>',
    '</testsuites>',
  ].join('\n');
}
