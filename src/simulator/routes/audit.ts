import { createHash } from 'node:crypto';
import type { AuditEntry, AuditKind } from '../audit/streams.js';
import type { StreamView } from '../audit/stream.js';
import { v1Filter, v2Filter, type Predicate } from '../audit/filters.js';
import { badParam, CODES, HttpError, notFound } from '../http/errors.js';
import { dateParam, enumParam, intParam, type Query } from '../http/params.js';
import { me, type Handler, type HandlerContext } from './iam.js';

/**
 * Audit-log listings. Bounds: `since` is INCLUSIVE (an entry exactly at `since` is returned — observed on the
 * real v1 API), `before` is EXCLUSIVE; v2 uses the same convention. Date-only values mean 00:00:00Z that day.
 */

type Entry = Record<string, unknown>;

/**
 * The stream a listing reads: /user/audit_logs is the caller's own user's log. With `ageOutPerRequest`, each
 * request that reaches the listing (valid parameters, no fault answering instead) first drops that many of the
 * stream's oldest entries: Cloudflare's retention edge moving while a walk runs.
 */
function streamFor(ctx: HandlerContext, kind: AuditKind) {
  const accountId = ctx.params.account_id;
  if (kind !== 'user-v1' && !ctx.world.account(accountId ?? '')) throw notFound('Account');
  const stream = ctx.world.auditStream(kind, kind === 'user-v1' ? me(ctx).user.id : accountId).stream;
  const ageOut = ctx.world.audit.ageOutPerRequest ?? 0;
  if (ageOut > 0) stream.dropOldest(ageOut, ctx.now);
  return stream;
}

/** Entries at direction-positions [from, ...) that pass `pred`, skipping `skip` matches, up to `take`. */
function collect(view: StreamView<AuditEntry>, direction: 'asc' | 'desc', from: number, pred: Predicate | undefined, skip: number, take: number) {
  const out: Entry[] = [];
  let lastPos = from - 1;
  if (!pred) {
    for (let p = from + skip; p < view.total && out.length < take; p++) {
      out.push(view.at(direction === 'asc' ? p : view.total - 1 - p));
      lastPos = p;
    }
    return { out, lastPos };
  }
  let skipped = 0;
  for (const { entry, pos } of view.iterate(from, direction)) {
    if (out.length >= take) break;
    if (!pred(entry)) continue;
    if (skipped++ < skip) continue;
    out.push(entry);
    lastPos = pos;
  }
  return { out, lastPos };
}

function countMatching(view: StreamView<AuditEntry>, pred: Predicate | undefined): number {
  if (!pred) return view.total;
  let n = 0;
  for (const { entry } of view.iterate(0, 'asc')) if (pred(entry)) n++;
  return n;
}

/** One entry of the page loses its id, or (every other poisoning) gets an unparseable timestamp. */
function poison(entries: Entry[], timeField: 'when' | 'action', seedCounter: number): Entry[] {
  if (entries.length === 0) return entries;
  const index = seedCounter % entries.length;
  const copy = { ...entries[index]! };
  if (seedCounter % 2 === 0) delete copy.id;
  else if (timeField === 'when') copy.when = 'not-a-date';
  else copy.action = { ...(copy.action as Entry), time: '2024-13-45T25:61:00Z' };
  return entries.map((e, i) => (i === index ? copy : e));
}

/**
 * 'future-entry': the page's first entry keeps its id but is dated in the year 2999 at the same time of day,
 * in this answer only. (29 February becomes 1 March: 2999 is no leap year.)
 */
function future(entries: Entry[], timeField: 'when' | 'action'): Entry[] {
  const first = entries[0];
  if (!first) return entries;
  const shift = (t: string) => t.replace(/^\d{4}-02-29/, '2999-03-01').replace(/^\d{4}/, '2999');
  const moved = timeField === 'when' ? { ...first, when: shift(String(first.when)) }
    : { ...first, action: { ...(first.action as Entry), time: shift(String((first.action as Entry).time)) } };
  return [moved, ...entries.slice(1)];
}

function listV1(kind: AuditKind): Handler {
  return (ctx) => {
    const q = ctx.query;
    const page = intParam(q, 'page', 1, 1, Number.MAX_SAFE_INTEGER);
    const perPage = intParam(q, 'per_page', 100, 1, 1000);
    const direction = enumParam(q, 'direction', ['desc', 'asc'] as const) ?? 'desc';
    const since = dateParam(q, 'since') ?? -Infinity, before = dateParam(q, 'before') ?? Infinity;
    const pred = v1Filter(q);
    const view = streamFor(ctx, kind).view(since, before, ctx.now);
    const start = (page - 1) * perPage;
    const total = pred && start > 0 ? countMatching(view, pred) : view.total;
    // Quirk reproduced: past the last page, an exact multiple of per_page answers 400 instead of [].
    if (start > 0 && start >= total && total > 0 && total % perPage === 0) {
      throw new HttpError(400, [{ code: CODES.badParam, message: `page ${page} is out of range` }]);
    }
    let { out } = collect(view, direction, 0, pred, start, perPage);
    if (ctx.faults.poison) out = poison(out, 'when', ctx.faults.poisonSeq);
    if (ctx.faults.future) out = future(out, 'when');
    // No result_info: the spec declares none for v1 audit listings.
    return { success: true, errors: [], messages: [], result: out };
  };
}

// ---- v2: cursor = base64url(JSON{k: last (time, id), h: hash of window + filters + direction}) ----

function filterHash(q: Query): string {
  const parts = Object.keys(q).filter((k) => k !== 'cursor' && k !== 'limit').sort().map((k) => `${k}=${JSON.stringify(q[k])}`);
  return createHash('sha1').update(parts.join('&')).digest('base64url').slice(0, 12);
}

function decodeCursor(raw: string, hash: string): { ms: number; id: string } {
  let parsed: { k?: [number, string]; h?: string };
  try { parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as typeof parsed; } catch { throw badParam('invalid cursor'); }
  if (!Array.isArray(parsed.k) || typeof parsed.k[0] !== 'number' || typeof parsed.k[1] !== 'string') throw badParam('invalid cursor');
  if (parsed.h !== hash) throw badParam('cursor does not match the request filters');
  return { ms: parsed.k[0], id: parsed.k[1] };
}

const entryKey = (e: Entry) => ({ ms: Date.parse(String((e.action as Entry).time)), id: String(e.id) });

function listV2(): Handler {
  return (ctx) => {
    const q = ctx.query;
    const since = dateParam(q, 'since'), before = dateParam(q, 'before');
    if (since === undefined || before === undefined) throw badParam('since and before are required');
    const limit = intParam(q, 'limit', 100, 1, 1000);
    const direction = enumParam(q, 'direction', ['desc', 'asc'] as const) ?? 'desc';
    const pred = v2Filter(q);
    const hash = filterHash(q);
    const view = streamFor(ctx, 'account-v2').view(since, before, ctx.now);
    const cursorRaw = typeof q.cursor === 'string' && q.cursor !== '' ? q.cursor : undefined;
    let from = 0;
    if (cursorRaw) {
      const key = decodeCursor(cursorRaw, hash);
      from = direction === 'asc' ? view.positionAfter(key, true) : view.total - view.positionAfter(key, false);
    }
    let { out, lastPos } = collect(view, direction, from, pred, 0, limit);
    // Look ahead so the last page carries no cursor (no trailing empty page needed).
    const more = out.length === limit && collect(view, direction, lastPos + 1, pred, 0, 1).out.length > 0;
    const last = out[out.length - 1];
    const cursor = more && last ? Buffer.from(JSON.stringify({ k: [entryKey(last).ms, entryKey(last).id], h: hash })).toString('base64url') : undefined;
    if (ctx.faults.poison) out = poison(out, 'action', ctx.faults.poisonSeq);
    if (ctx.faults.future) out = future(out, 'action');
    return { success: true, errors: [], result: out, result_info: { count: String(out.length), ...(cursor ? { cursor } : {}) } };
  };
}

export const auditHandlers: Record<string, Handler> = {
  'GET /user/audit_logs': listV1('user-v1'),
  'GET /accounts/:account_id/audit_logs': listV1('account-v1'),
  'GET /accounts/:account_id/logs/audit': listV2(),
};
