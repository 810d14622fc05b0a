import { toCsv } from '../commands/findings-format.js';
import { REVIEW_CONTROLS } from '../compliance/controls.js';
import type { Evidence } from './evidence.js';
import { summarise } from './item-summary.js';
import { REMEDIATION_CSV_HEADER, remediationCells } from './render-remediation.js';
import { oldestSuccess, scopeText } from './summary-rows.js';

const HEADER = [
  'review_id', 'review_name', 'generated_at', 'scope', 'oldest_stream_success', 'kind', 'item_key', 'account_id', 'account_name', 'label',
  'status', 'access', 'protection', 'last_active', 'context', 'findings', 'controls', 'decision', 'decided_by', 'decided_at', 'note',
  'decision_history', 'evidence_digest', ...REMEDIATION_CSV_HEADER,
];

/**
 * One row per item, with the review's scope, time and freshness on every row (a spreadsheet
 * filters rows, not sections). Cells starting with = + - @ tab or CR are prefixed with ' (toCsv),
 * so a token named `=HYPERLINK(…)` stays text.
 */
export function renderCsv(e: Evidence): string {
  const findings = new Map(e.findings.map((f) => [f.id, f]));
  const rows = e.items.map((i) => {
    const s = summarise(i);
    const fs = i.findings.map((id) => findings.get(id)!);
    const controls = [...new Set([...REVIEW_CONTROLS, ...fs.flatMap((f) => f.controls)])].sort();
    return [
      e.review.id, e.review.name, e.generated_at, scopeText(e), oldestSuccess(e), i.kind, i.key, i.account_id, i.account_name, i.label,
      s.status, s.access.join('; '), s.protection, s.lastActive, s.context.join('; '),
      fs.map((f) => `${f.rule_id} (${f.severity}${f.suppressed ? ', suppressed' : ''})`).join('; '), controls.join(' '),
      i.decision?.decision ?? 'undecided', i.decision?.by, i.decision?.at, i.decision?.note,
      i.decisions.map((d) => `${d.decision} by ${d.by} at ${d.at}${d.note ? `: ${d.note}` : ''}`).join('; '), e.digest,
      ...remediationCells(e, i.key),
    ];
  });
  return `${toCsv(HEADER, rows)}\r\n`;
}
