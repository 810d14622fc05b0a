import { NotFoundError } from '../util/not-found.js';
import type { Context } from '../context.js';
import { findingWithHistory } from '../db/queries/finding-detail.js';
import { UsageError } from '../util/usage-error.js';
import { isoOrEmpty, safeText } from './findings-format.js';

const factLines = (facts: unknown, indent = '  '): string[] =>
  Object.entries((facts ?? {}) as Record<string, unknown>).map(([k, v]) => `${indent}${k}: ${safeText(typeof v === 'string' ? v : JSON.stringify(v))}`);

/** `flarewatch findings show <id>`: one finding with its facts and its history (JSON with --json). */
export async function findingsShowCommand(ctx: Pick<Context, 'db'>, idText: string, json: boolean): Promise<{ output: string; exitCode: number }> {
  const id = Number(idText);
  if (!Number.isSafeInteger(id) || id <= 0) throw new UsageError(`findings show: "${idText}" is not a finding id (the id column of npx flarewatch findings)`);
  const found = await findingWithHistory(ctx.db, id);
  if (!found) throw new NotFoundError(`findings show: no finding ${id} (npx flarewatch findings lists them)`);
  const { finding: f, events } = found;
  if (json) return { output: JSON.stringify({ ...f, events }, null, 2), exitCode: 0 };
  const status = f.status + (f.suppressed ? ` (suppressed by ${f.suppressionId ?? '?'})` : '') + (f.resolvedAt ? ` at ${isoOrEmpty(f.resolvedAt)}` : '');
  const lines = [
    `finding ${f.id}: ${safeText(f.title)}`,
    `  rule:        ${f.ruleId}`,
    `  severity:    ${f.severity}`,
    `  status:      ${status}`,
    `  resource:    ${safeText(f.resourceKey)}${f.resourceName ? ` (${safeText(f.resourceName)})` : ''}`,
    ...(f.accountId ? [`  account:     ${f.accountId}`] : []),
    `  first seen:  ${isoOrEmpty(f.firstSeenAt)}`,
    `  last seen:   ${isoOrEmpty(f.lastSeenAt)}`,
    ...(f.reopenedCount ? [`  reopened:    ${f.reopenedCount} time(s)`] : []),
    `  fingerprint: ${f.fingerprint}`,
    'facts:',
    ...factLines(f.facts),
    'history:',
    ...events.map((e) => {
      const change = e.transition === 'severity_changed' ? ` ${e.fromSeverity} → ${e.toSeverity}` : '';
      return `  ${isoOrEmpty(e.at)}  ${e.transition}${change}${e.checkRunId ? `  (check run ${e.checkRunId})` : ''}`;
    }),
  ];
  return { output: lines.join('\n'), exitCode: 0 };
}
