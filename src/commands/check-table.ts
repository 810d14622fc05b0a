import type { CheckResult, RuleOutcome } from '../rules/engine.js';
import { SEVERITIES } from '../rules/types.js';
import { wrapLine } from '../util/table.js';
import { formatTable, safeText } from './findings-format.js';

const STATUS: Record<RuleOutcome['status'], string> = { succeeded: 'ok', failed: 'failed', skipped: 'skipped', disabled: 'inactive', removed: 'removed' };

/** "2 high, 1 low": what is open now, most severe first. */
export function bySeverityText(counts: Record<string, number> | undefined): string {
  if (!counts) return '';
  return [...SEVERITIES].reverse().filter((s) => counts[s]).map((s) => `${counts[s]} ${s}`).join(', ');
}

/**
 * `check`'s table: each rule's open findings by severity (what is there, not the rule's default
 * severity), a disabled rule as `inactive`, and what this run opened and resolved.
 */
export function formatCheckTable(result: CheckResult, bySeverity: Map<string, Record<string, number>>, width?: number): string {
  const rows = result.outcomes.map((o) => {
    const open = result.open.get(o.ruleId);
    return [
      o.ruleId,
      STATUS[o.status],
      String(open?.open ?? 0) + (open?.suppressed ? ` (+${open.suppressed} suppressed)` : ''),
      bySeverityText(bySeverity.get(o.ruleId)),
      String(o.opened + o.reopened),
      String(o.resolved),
    ];
  });
  const problems = result.outcomes.filter((o) => o.status === 'failed').map((o) => `  ✗ ${o.ruleId}: ${safeText(o.reason)}`);
  // A rule disabled in config or removed resolves its findings (no chat noise): say so once.
  const retired = result.outcomes.filter((o) => (o.status === 'disabled' || o.status === 'removed') && o.resolved).map((o) => `  ${o.ruleId}: ${o.resolved} finding(s) resolved (${o.reason})`);
  const table = formatTable(['rule', 'status', 'open', 'by severity', 'new', 'resolved'], rows, { width, flex: ['by severity', 'open'] });
  return [
    table,
    ...(problems.length ? ['', 'rules that failed (skipped, their findings left as they were):', ...problems] : []),
    ...(retired.length ? ['', 'rules disabled or removed:', ...retired] : []),
  ].map((l) => wrapLine(l, width)).join('\n');
}
