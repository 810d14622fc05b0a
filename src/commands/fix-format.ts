import type { LoadedPlan } from '../remediation/approve.js';
import { wrapLine } from '../util/table.js';
import { formatTable, isoOrEmpty, safeText } from './findings-format.js';

type Status = { apply_status: string | null; apply_reason: string | null; undo_status: string | null };

/** `fix show`: the plan, who approved it, each action's exact request, precondition and outcome. */
export function formatPlan(p: LoadedPlan, approval: { approved: boolean; needed: number; have: string[] }, status: Map<number, Status>, width?: number): string {
  const lines = [
    `plan ${p.plan.id}, planned ${isoOrEmpty(p.plan.createdAt)} by ${safeText(p.plan.createdBy)}; requests sent by credential "${p.plan.credential}"`,
    `approvals: ${p.approvals.length ? p.approvals.map((a) => `${safeText(a.approvedBy)} (${a.via}, ${isoOrEmpty(a.approvedAt)})`).join(', ') : 'none'}; ` +
      `needs ${approval.needed} other than the planner: ${approval.approved ? 'approved' : 'NOT approved yet'}`,
    formatTable(['#', 'action', 'object', 'reversible', 'outcome', 'undo'], p.actions.map((a) => {
      const s = status.get(a.id);
      return [String(a.seq), a.kind, safeText(a.label ? `${a.label} (${a.objectKey})` : a.objectKey), a.reversible ? 'yes' : 'NO (irreversible)', s?.apply_status ?? 'pending', s?.undo_status ?? ''];
    }), { width, flex: ['object'] }),
  ];
  for (const a of p.actions) {
    lines.push('', `#${a.seq} ${a.kind} ${safeText(a.objectKey)}: ${safeText(a.reason)}`,
      `  request: ${a.method} ${a.path}${a.body === null ? '' : ` ${safeText(JSON.stringify(a.body))}`}`,
      `  assumes: ${safeText(JSON.stringify(a.precondition))}`);
    const s = status.get(a.id);
    if (s?.apply_reason) lines.push(`  outcome: ${s.apply_status}: ${safeText(s.apply_reason)}`);
  }
  return lines.map((l) => wrapLine(l, width)).join('\n');
}
