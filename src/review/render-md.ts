import type { Evidence, EvidenceItem } from './evidence.js';
import { summarise } from './item-summary.js';
import { REMEDIATION_HEADER, remediationRows } from './render-remediation.js';
import { decisionHistory, summaryRows } from './summary-rows.js';

/**
 * Text for a Markdown table cell: Markdown and HTML syntax shown, never obeyed (a token named
 * `<img onerror=…>` or `[x](javascript:…)` renders as those characters), control characters dropped.
 */
export const mdText = (s: unknown): string =>
  String(s ?? '')
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
    .replace(/\\/g, '\\\\')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
    .replace(/([|*_`[\]~])/g, '\\$1')
    .replace(/\r?\n/g, ' ');

const table = (header: string[], rows: unknown[][]) =>
  [`| ${header.join(' | ')} |`, `|${header.map(() => ' --- ').join('|')}|`, ...rows.map((r) => `| ${r.map(mdText).join(' | ')} |`)].join('\n');

const decisionCells = (i: EvidenceItem) => [i.decision?.decision ?? 'undecided', i.decision?.by ?? '', i.decision?.at ?? '', i.decision?.note ?? ''];

function itemTables(e: Evidence): string[] {
  const rule = new Map(e.findings.map((f) => [f.id, `${f.rule_id} (${f.severity})`]));
  const findings = (i: EvidenceItem) => i.findings.map((id) => rule.get(id)).join('; ');
  const members = e.items.filter((i) => i.kind === 'member').map((i) => {
    const s = summarise(i);
    return [i.account_name ?? i.account_id, i.label, s.status, s.access.join('; '), s.protection, s.lastActive, s.context.join('; '), findings(i), ...decisionCells(i)];
  });
  const tokens = e.items.filter((i) => i.kind === 'token').map((i) => {
    const s = summarise(i);
    return [i.label, s.status, s.access.join('; '), s.protection, s.lastActive, s.context.join('; '), findings(i), ...decisionCells(i)];
  });
  return [
    `## Members (${members.length})`, '',
    table(['account', 'member', 'status', 'roles and policies', '2FA', 'last activity', 'invitation', 'findings', 'decision', 'by', 'at', 'note'], members), '',
    `## API tokens (${tokens.length})`, '',
    table(['token', 'status', 'grants', 'allowed from', 'last used', 'owner, expiry, creator', 'findings', 'decision', 'by', 'at', 'note'], tokens), '',
  ];
}

/** The evidence pack as one Markdown document: summary, freshness, items with decisions, history, findings, controls. */
export function renderMarkdown(e: Evidence): string {
  const history = decisionHistory(e);
  return [
    `# Access review ${e.review.id}: ${mdText(e.review.name)}`, '',
    table(['', ''], [
      ...summaryRows(e),
      ['Evidence digest (sha256 of the JSON pack)', e.digest],
    ]), '',
    '## Data freshness', '',
    table(['stream', 'last success', 'last error', 'error'], e.freshness.map((f) => [f.stream, f.last_success_at ?? 'never', f.last_error_at ?? '', f.last_error ?? ''])), '',
    ...itemTables(e),
    `## Decision history (${history.length})`, '',
    table(['item', 'label', 'decision', 'by', 'at', 'note'], history), '',
    `## Findings (${e.findings.length})`, '',
    table(['id', 'severity', 'rule', 'resource', 'title', 'controls', 'accepted'],
      e.findings.map((f) => [f.id, f.severity, f.rule_id, `${f.resource_key}${f.resource_name ? ` (${f.resource_name})` : ''}`, f.title, f.controls.join(' '), f.suppressed ? `suppressed: ${f.suppression_reason ?? ''}` : ''])), '',
    '## Control references', '',
    table(['control', 'requirement', 'evidence'], e.controls.map((c) => [c.label, c.title, c.evidence.join(', ')])), '',
    `## Remediation (${e.remediation.length} plan${e.remediation.length === 1 ? '' : 's'})`, '',
    table(REMEDIATION_HEADER, remediationRows(e)), '',
  ].join('\n');
}
