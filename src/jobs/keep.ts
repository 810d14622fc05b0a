// How long BullMQ keeps the jobs the scheduler enqueues. A late replica's add of a round (a slow plan,
// a missed tick caught up) is a no-op only for the job ids still in Redis: a completed sync job that
// was removed is added, and its stream walked, again. BullMQ trims a queue's completed set when a job
// completes, to that job's removeOnComplete.count newest, so every job of the sync queue must carry a
// count that holds whole rounds, else one small-count completion trims the big round away.
// (BullMQ's `deduplication` option is no fit: its key lives only until the job ends unless given a ttl,
// costs a key per job like a kept job does, and is slated to be refused on flow nodes.)

const DAY_S = 86_400;
/** Completed jobs kept at least, whatever the size of the selection. */
export const KEEP_COMPLETED_MIN = 5_000;
const ON_FAIL = { age: 7 * DAY_S };

/**
 * For a round's jobs: a completed one goes after a day, or sooner once max(5,000, 2 × `streams`) newer
 * ones completed, so the two latest full rounds stay whole (`streams`: every stream of the selection,
 * not only this round's, so a smaller audit-only round trims no older full round).
 * A kept sync job costs Redis ~0.9–2.1 KB (measured with MEMORY USAGE: its hash, return value and opts
 * included; its completed-set entry ~0.1 KB on top): 2 × 11,501 streams ≈ 23,000 jobs ≈ 20–50 MB,
 * against ~10 MB for the old flat 5,000; the count bounds it however many rounds a day run.
 */
export function roundKeep(streams: number, min = KEEP_COMPLETED_MIN) {
  return { removeOnComplete: { age: DAY_S, count: Math.max(min, 2 * streams) }, removeOnFail: ON_FAIL };
}

/** For jobs beside the rounds (digest, verification, hygiene: one a day each): by age only, so they never trim a round by count. */
export const KEEP_BY_AGE = { removeOnComplete: { age: DAY_S }, removeOnFail: ON_FAIL };
