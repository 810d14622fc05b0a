import type { Evidence, EvidenceItem } from './evidence.js';
import { type Column, cell, esc, labelled, table, wide } from './html-cells.js';
import { summarise } from './item-summary.js';
import { REMEDIATION_HEADER, remediationRows } from './render-remediation.js';
import { decisionHistory, memberCounts, summaryRows } from './summary-rows.js';

// The evidence pack as one self-contained, printable HTML file: inline style, no script, no
// external resource (its CSP forbids any), every text from Cloudflare escaped. Lines break between
// words only (html-cells.ts); a table wider than a narrow screen scrolls inside its own box, and on
// paper (A4 landscape) every table fits the page, its header repeated on each page, no row cut.

const STYLE = `
body { font: 10pt/1.35 system-ui, sans-serif; margin: 1.5em; color: #111; }
h1 { font-size: 16pt; } h2 { font-size: 12.5pt; margin-top: 1.6em; border-bottom: 1px solid #999; }
.wide { overflow-x: auto; margin: .4em 0; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #bbb; padding: 2px 5px; text-align: left; vertical-align: top; word-break: normal; overflow-wrap: normal; hyphens: manual; }
th { background: #eee; font-weight: 600; }
.short, .nw { white-space: nowrap; }
.long { min-width: 12em; }
.id { overflow-wrap: anywhere; }
thead { display: table-header-group; } tr { break-inside: avoid; }
td.keep { color: #075c07; font-weight: 600; } td.revoke { color: #9b0c0c; font-weight: 600; } td.undecided { color: #7a5a00; }
table.meta { width: auto; margin: .4em 0; } .meta th { width: 14em; }
.digest { font-family: ui-monospace, monospace; font-size: 8.5pt; }
@page { size: A4 landscape; margin: 12mm; }
@media print {
  body { margin: 0; font-size: 8pt; }
  .wide { overflow: visible; }
  .long { min-width: 0; }
  th, td { padding: 1px 3px; }
  th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { break-after: avoid; }
}`;

const DECISION: Column[] = [{ label: 'Decision', kind: 'short' }, { label: 'Decided by' }, { label: 'Decided at' }, { label: 'Note' }];
const FINDINGS: Column = { label: 'Open findings' };
const MEMBER_COLUMNS: Column[] = [
  { label: 'Account' }, { label: 'Member' }, { label: 'Status', kind: 'short' }, { label: 'Roles and policies', kind: 'long' }, { label: '2FA', kind: 'short' },
  { label: 'Last activity' }, { label: 'Invitation' }, FINDINGS, ...DECISION,
];
const TOKEN_COLUMNS: Column[] = [
  { label: 'Token' }, { label: 'Status', kind: 'short' }, { label: 'Grants', kind: 'long' }, { label: 'Allowed from' }, { label: 'Last used' },
  { label: 'Owner, expiry, creator' }, FINDINGS, ...DECISION,
];

function decisionCells(i: EvidenceItem): string {
  const d = i.decision;
  return cell(d?.decision ?? 'undecided', 'short', d ? d.decision : 'undecided') + cell(d?.by ?? '') + cell(d?.at ?? '') + cell(d?.note ?? '');
}

function itemRows(e: Evidence, kind: 'member' | 'token'): string {
  const rule = new Map(e.findings.map((f) => [f.id, `${f.rule_id} (${f.severity})`]));
  const items = e.items.filter((i) => i.kind === kind);
  if (!items.length) return `<p class="none" id="${kind}s">none</p>`;
  const cols = kind === 'member' ? MEMBER_COLUMNS : TOKEN_COLUMNS;
  const rows = items.map((i) => {
    const s = summarise(i);
    const first = kind === 'member' ? [i.account_name ?? i.account_id, i.label] : [i.label];
    const values = [...first, s.status, s.access, s.protection, s.lastActive, s.context, i.findings.map((id) => rule.get(id))];
    return `<tr data-key="${esc(i.key)}">${values.map((v, n) => cell(v, cols[n]?.kind)).join('')}${decisionCells(i)}</tr>`;
  });
  return wide(`${kind}s`, cols, rows.join('\n'));
}

const FRESHNESS: Column[] = [{ label: 'Stream' }, { label: 'Last success' }, { label: 'Last error' }, { label: 'Error' }];
const HISTORY: Column[] = [{ label: 'Item' }, { label: 'Name' }, ...DECISION];
const FINDING_COLUMNS: Column[] = [
  { label: 'Finding', kind: 'short' }, { label: 'Severity', kind: 'short' }, { label: 'Rule', kind: 'short' }, { label: 'Resource' },
  { label: 'Title' }, { label: 'Controls' }, { label: 'Accepted risk' },
];
const CONTROLS: Column[] = [{ label: 'Control', kind: 'short' }, { label: 'Requirement' }, { label: 'Evidence' }];
// Requests and object states are JSON: long tokens that may break anywhere; plan and step numbers never.
const REMEDIATION_KINDS: Record<string, Column['kind']> = { plan: 'short', '#': 'short', request: 'long', before: 'long', after: 'long' };
const REMEDIATION_COLUMNS: Column[] = REMEDIATION_HEADER.map((h) => ({ label: h.charAt(0).toUpperCase() + h.slice(1), kind: REMEDIATION_KINDS[h] }));

export function renderHtml(e: Evidence): string {
  const s = e.summary;
  const title = `Access review ${e.review.id}: ${e.review.name}`;
  const history = decisionHistory(e);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${esc(title)}</h1>
${labelled('summary', summaryRows(e))}
<p class="digest">Evidence digest (sha256 of the JSON pack): <span id="digest" class="id">${esc(e.digest)}</span></p>
<h2>Data freshness</h2>
${table('freshness', FRESHNESS, e.freshness.map((f) => [f.stream, f.last_success_at ?? 'never', f.last_error_at ?? '', f.last_error ?? '']))}
<h2>Members (${esc(memberCounts(e))})</h2>
${itemRows(e, 'member')}
<h2>API tokens (${s.tokens})</h2>
${itemRows(e, 'token')}
<h2>Decision history (${history.length})</h2>
${table('decisions', HISTORY, history)}
<h2>Findings (${e.findings.length})</h2>
${table('findings', FINDING_COLUMNS, e.findings.map((f) => [f.id, f.severity, f.rule_id, `${f.resource_key}${f.resource_name ? ` (${f.resource_name})` : ''}`, f.title, f.controls.join(' '), f.suppressed ? `suppressed: ${f.suppression_reason ?? ''}` : '']))}
<h2>Control references</h2>
${table('controls', CONTROLS, e.controls.map((c) => [c.label, c.title, c.evidence.join(', ')]))}
<h2>Remediation (${e.remediation.length} plan${e.remediation.length === 1 ? '' : 's'})</h2>
${table('remediation', REMEDIATION_COLUMNS, remediationRows(e))}
</body></html>
`;
}
