import { CloudflareRequestError } from '../cloudflare/errors.js';
import { fetchEnvelope } from '../cloudflare/fetch-envelope.js';
import type { Tx } from '../db/client.js';
import type { HeldDeletions } from '../db/queries/sync-state.js';
import { liveIds, markDeleted, upsertSnapshotRows } from '../db/queries/snapshot.js';
import { endVersions, storeVersions } from './history.js';
import type { Walk } from './walk.js';
import type { SnapshotSpec } from './snapshot-spec.js';

export interface Settled {
  write: (tx: Tx) => Promise<void>;
  /** The guard's state after this walk (null: nothing held). */
  held: HeldDeletions | null;
}

/** How rows missing from the listing are proven gone, given how the listing was walked. */
export type Confirmation =
  | { by: 'detail' }
  /** One answer is the whole listing: what it lacks is gone. */
  | { by: 'single-answer' }
  /** Several pages, no detail endpoint: gone only if a second complete walk lacks them too. */
  | { by: 'second-walk'; rewalk: () => Promise<Set<string> | undefined> };

const massive = (w: Walk, n: number, live: number) => n >= w.config.sync.massDeletionMin && n > w.config.sync.massDeletionShare * live;

/**
 * Ask the detail endpoint about each id: 404 (or another of `goneStatuses`) is gone, 200 is still
 * there (the listing shifted), anything else proves nothing and keeps the row.
 */
export async function askDetail(w: Walk, pathFor: (id: string) => string, ids: string[], goneStatuses = [404],
  mapItem: (item: Record<string, unknown>) => Record<string, unknown> = (i) => i) {
  const gone: string[] = [];
  const present: Array<Record<string, unknown> & { id: string }> = [];
  for (const id of ids) {
    const path = pathFor(id);
    try {
      const res = await fetchEnvelope(w.cf, { site: { stream: w.stream, path, credential: w.credential.name }, malformedRetries: w.api.malformedRetries, signal: w.signal });
      const answer = res.kind === 'ok' ? res.envelope.result : undefined;
      const item = answer && typeof answer === 'object' ? mapItem(answer as Record<string, unknown>) : answer;
      if (item && typeof item === 'object' && (item as { id?: unknown }).id === id) present.push(item as never);
      else w.note(`deletion of ${id} not confirmed: ${path} answered without it; kept`);
    } catch (err) {
      if (err instanceof CloudflareRequestError && err.status !== undefined && goneStatuses.includes(err.status)) gone.push(id);
      else w.note(`deletion of ${id} not confirmed (${err instanceof CloudflareRequestError ? `HTTP ${err.status ?? err.kind}` : (err as Error).message}); kept`);
    }
  }
  return { gone, present };
}

/**
 * The mass-deletion guard. Candidates the previous walk held back and this one still misses are
 * agreed; the others, if they are more than massDeletionShare of the live rows (and at least
 * massDeletionMin), are held until the next complete walk agrees or the operator confirms.
 */
export function guard(w: Walk, candidates: string[], live: number): { wanted: string[]; held: HeldDeletions | null } {
  const prior = new Set(w.heldDeletions?.ids ?? []);
  const agreed = candidates.filter((id) => prior.has(id));
  const fresh = candidates.filter((id) => !prior.has(id));
  if (agreed.length) w.log.info({ agreed: agreed.length }, 'a second complete walk agrees with the deletions held back');
  if (!massive(w, fresh.length, live) || w.confirmDeletions) return { wanted: candidates, held: null };
  w.counts.deletionsHeld += fresh.length;
  w.note(`mass-deletion guard: ${fresh.length} of ${live} live rows are missing; none of them marked deleted until the next complete walk agrees (or: npx flarewatch sync ${w.stream} --confirm-deletions)`);
  return { wanted: agreed, held: { ids: fresh, at: w.now().toISOString(), live } };
}

/**
 * Decide what a complete walk marks deleted: the rows of its scope it did not see, each proven gone
 * (detail endpoint, the whole listing in one answer, or a second walk), less what the mass-deletion
 * guard holds back until a second complete walk agrees (or the operator confirms).
 */
export async function settleDeletions(w: Walk, spec: SnapshotSpec, seen: Set<string>, how: Confirmation): Promise<Settled> {
  const scope = spec.scope?.(w);
  const live = await liveIds(w.db, spec.table, spec.idColumn, scope);
  const candidates = live.filter((id) => !seen.has(id));
  if (candidates.length === 0) return { write: async () => undefined, held: null };
  const { wanted, held } = guard(w, candidates, live.length);

  let gone: string[] = [];
  let present: Array<Record<string, unknown> & { id: string }> = [];
  let reason = 'absent from a complete listing';
  if (wanted.length && how.by === 'detail') {
    ({ gone, present } = await askDetail(w, (id) => spec.detailPath!(id, w), wanted, [404], spec.mapItem));
    reason = 'confirmed gone: its detail endpoint answered 404';
    if (present.length) w.note(`the listing omitted ${present.length} object(s) that still exist (${present.slice(0, 3).map((p) => p.id).join(', ')}): it shifted during the walk; kept`);
  } else if (wanted.length && how.by === 'second-walk') {
    const again = await how.rewalk();
    w.counts.rewalks += 1;
    if (!again) w.note('a second walk to confirm deletions did not join up; nothing marked deleted this time');
    gone = again ? wanted.filter((id) => !again.has(id)) : [];
    reason = 'absent from two complete walks of the listing';
  } else gone = wanted;

  return {
    held,
    write: async (tx) => {
      if (present.length) {
        const rows = present.map((item) => spec.toRow(item, w));
        w.counts.rowsUpserted += await upsertSnapshotRows(tx, spec.table, spec.conflict, rows, w.now(), w.config.sync.lastSeenResolution);
        await storeVersions(tx, w, spec.history, present.map((p) => p.id));
      }
      const marked = await markDeleted(tx, spec.table, spec.idColumn, scope, gone, w.now(), reason);
      if (marked) await endVersions(tx, spec.history, gone);
      w.counts.rowsMarkedDeleted += marked;
    },
  };
}

/** One guard state for a stream that settles several listings: what any of them held back. */
export function mergeHeld(all: Settled[]): HeldDeletions | null {
  const held = all.map((s) => s.held).filter((h): h is HeldDeletions => h !== null);
  if (!held.length) return null;
  return { ids: held.flatMap((h) => h.ids), at: held[0]!.at, live: held.reduce((n, h) => n + h.live, 0) };
}
