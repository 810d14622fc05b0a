// The hash chain over a review's decisions. The database computes it at insert (trigger in
// migration 0018); this file computes the same text, so a pack is checked without the database.
// Canonical JSON: the row's fields, keys sorted, no spaces, the time in UTC with milliseconds.
import { createHash } from 'node:crypto';

export const GENESIS = '0'.repeat(64);

/** One decision as the chain holds it, in the evidence pack. */
export interface ChainEntry {
  seq: number;
  id: number;
  item_key: string;
  decision: 'keep' | 'revoke';
  by: string;
  at: string;
  note: string | null;
  prev: string;
  hash: string;
}

export function canonical(reviewId: number, e: Omit<ChainEntry, 'hash'>): string {
  // Keys written in sorted order; JSON.stringify escapes strings as PostgreSQL's to_json does.
  return JSON.stringify({ at: e.at, by: e.by, decision: e.decision, id: e.id, item_key: e.item_key, note: e.note, prev: e.prev, review_id: reviewId, seq: e.seq });
}

export const entryHash = (reviewId: number, e: Omit<ChainEntry, 'hash'>) => createHash('sha256').update(canonical(reviewId, e), 'utf8').digest('hex');

/** Every break in a chain: a gap or a reordering, a link to the wrong row, a row whose fields no longer give its hash. */
export function chainBreaks(reviewId: number, entries: ChainEntry[]): string[] {
  const problems: string[] = [];
  let prev = GENESIS;
  entries.forEach((e, i) => {
    if (e.seq !== i + 1) problems.push(`decision #${e.seq} (id ${e.id}) is at place ${i + 1}: a decision is missing or out of order`);
    if (e.prev !== prev) problems.push(`decision #${e.seq} (id ${e.id}) does not link to the decision before it`);
    const { hash, ...fields } = e;
    if (entryHash(reviewId, fields) !== hash) problems.push(`decision #${e.seq} (id ${e.id}, ${e.item_key}) was changed after it was recorded: its fields no longer give its hash`);
    prev = e.hash;
  });
  return problems;
}
