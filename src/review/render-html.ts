import type { Evidence, EvidenceItem } from './evidence.js';
import { summarise } from './item-summary.js';
import { REMEDIATION_HEADER, remediationRows } from './render-remediation.js';
import { decisionHistory, summaryRows } from './summary-rows.js';

// The evidence pack as one self-contained, printable HTML file: inline style, no script, no
// external resource (its CSP forbids any), every text from Cloudflare escaped.

const esc = (s: unknown): string =>
  String(s ?? '')
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** A cell: text, or lines (one per grant or role). */
const cell = (v: unknown) => `<td>${Array.isArray(v) ? v.map(esc).join('<br>') : esc(v)}</td>`;

function table(id: string, header: string[], rows: unknown[][]): string {
  if (!rows.length) return `<p class="none" id="${id}">none</p>`;
  const head = `<thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead>`;
  return `<table id="${id}">${head}<tbody>${rows.map((r) => `<tr>${r.map(cell).join('')}</tr>`).join('\n')}</tbody></table>`;
}

const STYLE = `
body { font: 10pt/1.35 system-ui, sans-serif; margin: 1.5em; color: #111; }
h1 { font-size: 16pt; } h2 { font-size: 12.5pt; margin-top: 1.6em; border-bottom: 1px solid #999; }
table { border-collapse: collapse; width: 100%; margin: .4em 0; }
th, td { border: 1px solid #bbb; padding: 2px 5px; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
th { background: #eee; } tr { break-inside: avoid; } thead { display: table-header-group; }
td.keep, .keep { color: #075c07; font-weight: 600; } td.revoke, .revoke { color: #9b0c0c; font-weight: 600; } .undecided { color: #7a5a00; }
.meta th { width: 16em; } .digest { font-family: ui-monospace, monospace; font-size: 8.5pt; }
@page { size: A4 landscape; margin: 12mm; }
@media print { body { margin: 0; } h2 { break-after: avoid; } }`;

function decisionCells(i: EvidenceItem): string {
  const d = i.decision;
  const cls = d ? d.decision : 'undecided';
  return `<td class="${cls}">${esc(d?.decision ?? 'undecided')}</td>${cell(d?.by ?? '')}${cell(d?.at ?? '')}${cell(d?.note ?? '')}`;
}

function itemRows(e: Evidence, kind: 'member' | 'token'): string {
  const rule = new Map(e.findings.map((f) => [f.id, `${f.rule_id} (${f.severity})`]));
  const items = e.items.filter((i) => i.kind === kind);
  if (!items.length) return `<p class="none" id="${kind}s">none</p>`;
  const header = kind === 'member'
    ? ['account', 'member', 'status', 'roles and policies', '2FA', 'last activity', 'invitation', 'findings', 'decision', 'by', 'at', 'note']
    : ['token', 'status', 'grants', 'allowed from', 'last used', 'owner, expiry, creator', 'findings', 'decision', 'by', 'at', 'note'];
  const rows = items.map((i) => {
    const s = summarise(i);
    const first = kind === 'member' ? [i.account_name ?? i.account_id, i.label] : [i.label];
    const cells = [...first, s.status, s.access, s.protection, s.lastActive, s.context, i.findings.map((id) => rule.get(id))].map(cell).join('');
    return `<tr data-key="${esc(i.key)}">${cells}${decisionCells(i)}</tr>`;
  });
  return `<table id="${kind}s"><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows.join('\n')}</tbody></table>`;
}

export function renderHtml(e: Evidence): string {
  const s = e.summary;
  const title = `Access review ${e.review.id}: ${e.review.name}`;
  const meta = table('summary', ['', ''], summaryRows(e)).replace('<table', '<table class="meta"');
  const history = decisionHistory(e);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body>
<h1>${esc(title)}</h1>
${meta}
<p class="digest">Evidence digest (sha256 of the JSON pack): <span id="digest">${esc(e.digest)}</span></p>
<h2>Data freshness</h2>
${table('freshness', ['stream', 'last success', 'last error', 'error'], e.freshness.map((f) => [f.stream, f.last_success_at ?? 'never', f.last_error_at ?? '', f.last_error ?? '']))}
<h2>Members (${s.members})</h2>
${itemRows(e, 'member')}
<h2>API tokens (${s.tokens})</h2>
${itemRows(e, 'token')}
<h2>Decision history (${history.length})</h2>
${table('decisions', ['item', 'label', 'decision', 'by', 'at', 'note'], history)}
<h2>Findings (${e.findings.length})</h2>
${table('findings', ['id', 'severity', 'rule', 'resource', 'title', 'controls', 'accepted'], e.findings.map((f) => [f.id, f.severity, f.rule_id, `${f.resource_key}${f.resource_name ? ` (${f.resource_name})` : ''}`, f.title, f.controls.join(' '), f.suppressed ? `suppressed: ${f.suppression_reason ?? ''}` : '']))}
<h2>Control references</h2>
${table('controls', ['control', 'requirement', 'evidence'], e.controls.map((c) => [c.label, c.title, c.evidence.join(', ')]))}
<h2>Remediation (${e.remediation.length} plan${e.remediation.length === 1 ? '' : 's'})</h2>
${table('remediation', REMEDIATION_HEADER, remediationRows(e))}
</body></html>
`;
}
