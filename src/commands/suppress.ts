import type { Context } from '../context.js';
import { deleteSuppression, insertSuppression, listSuppressions, suppressedCounts } from '../db/queries/findings-suppressions.js';
import type { Suppression } from '../db/schema/index.js';
import { parseDuration } from '../util/duration.js';
import { UsageError } from '../util/usage-error.js';
import { formatTable, isoOrEmpty, safeText } from './findings-format.js';

/** `30d`, `12h` (from now) or a date/time; undefined for none. Throws on anything else. */
export function parseExpiry(text: string | undefined, now: Date): Date | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d+$/.test(text.trim()) ? undefined : parseDuration(text);
  if (ms !== undefined) return new Date(now.getTime() + ms);
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new Error(`--expires: not a duration (30d, 12h) or a date: "${text}"`);
  if (date.getTime() <= now.getTime()) throw new Error(`--expires: ${date.toISOString()} is in the past`);
  return date;
}

export interface SuppressInput {
  ruleId: string;
  resourcePattern: string;
  reason: string;
  createdBy?: string;
  expires?: string;
}

/** Takes effect at the next check of the rule: its findings are then flagged suppressed. */
export async function addSuppression(ctx: Context, input: SuppressInput): Promise<Suppression> {
  if (!input.reason?.trim()) throw new Error('a suppression needs a --reason');
  if (!input.ruleId.trim() || !input.resourcePattern.trim()) throw new Error('a suppression needs a rule id (or *) and a resource pattern');
  const now = ctx.now();
  return insertSuppression(ctx.db, {
    ruleId: input.ruleId,
    resourcePattern: input.resourcePattern,
    reason: input.reason.trim(),
    createdBy: input.createdBy ?? null,
    createdAt: now,
    expiresAt: parseExpiry(input.expires, now) ?? null,
  });
}

export async function removeSuppression(ctx: Context, id: number): Promise<boolean> {
  return deleteSuppression(ctx.db, id);
}

export async function formatSuppressionList(ctx: Context, json: boolean): Promise<string> {
  const list = await listSuppressions(ctx.db);
  const counts = await suppressedCounts(ctx.db);
  const now = ctx.now();
  const state = (s: Suppression) => (s.expiresAt && s.expiresAt <= now ? 'expired' : 'active');
  if (json) return JSON.stringify(list.map((s) => ({ ...s, state: state(s), findings: counts.get(s.id) ?? 0 })), null, 2);
  if (list.length === 0) return 'no suppressions';
  return formatTable(
    ['id', 'rule', 'resource', 'state', 'expires', 'findings', 'by', 'reason'],
    list.map((s) => [String(s.id), s.ruleId, s.resourcePattern, state(s), isoOrEmpty(s.expiresAt) || 'never', String(counts.get(s.id) ?? 0), safeText(s.createdBy), safeText(s.reason)]),
    { width: ctx.columns, flex: ['reason', 'resource', 'by'] },
  );
}

export interface SuppressOptions {
  reason?: string;
  by?: string;
  expires?: string;
  list?: boolean;
  json?: boolean;
  remove?: number;
}

/** `flarewatch suppress`: add (rule + pattern), --list or --remove. */
export async function suppressCommand(ctx: Context, rule: string | undefined, pattern: string | undefined, o: SuppressOptions): Promise<{ output: string; exitCode: number }> {
  if (o.list) return { output: await formatSuppressionList(ctx, Boolean(o.json)), exitCode: 0 };
  if (o.remove !== undefined) {
    const removed = await removeSuppression(ctx, o.remove);
    return removed
      ? { output: `suppression ${o.remove} removed (its findings are unsuppressed at the next check)`, exitCode: 0 }
      : { output: `no suppression ${o.remove}`, exitCode: 1 };
  }
  if (!rule || !pattern) throw new UsageError('suppress: give a rule id (or *) and a resource pattern, or --list / --remove <id>');
  if (!o.reason?.trim()) throw new UsageError('suppress: --reason "..." is required');
  let s: Suppression;
  try {
    s = await addSuppression(ctx, { ruleId: rule, resourcePattern: pattern, reason: o.reason, createdBy: o.by, expires: o.expires });
  } catch (err) {
    if ((err as Error).message.startsWith('--expires')) throw new UsageError(`suppress: ${(err as Error).message}`);
    throw err;
  }
  const until = s.expiresAt ? ` until ${s.expiresAt.toISOString()}` : '';
  return { output: `suppression ${s.id} added: ${s.ruleId} ${s.resourcePattern}${until} (applies at the next check)`, exitCode: 0 };
}
