import type Cloudflare from 'cloudflare';
import { sql } from 'drizzle-orm';
import { createApiClient, newTally, type RequestTally } from '../cloudflare/client.js';
import { CloudflareRequestError } from '../cloudflare/errors.js';
import type { Context } from '../context.js';
import type { Tx } from '../db/client.js';
import {
  type RunCounts, closeAbandonedRuns, finishRun, getSyncState, recordFailure, recordSuccess, saveCheckpoint, startRun, updateRun,
} from '../db/queries/sync-state.js';
import { withStreamLock } from './stream-lock.js';

/** What a stream's walk receives: the context plus its run's client, counters and commit points. */
export interface Walk extends Context {
  stream: string;
  cf: Cloudflare;
  tally: RequestTally;
  counts: RunCounts;
  /** The checkpoint committed by the last walk of this stream (null when none). */
  checkpoint: unknown;
  /** Store one page: `write` and the checkpoint that covers it commit together. */
  commitPage(write: (tx: Tx) => Promise<void>, checkpoint: unknown): Promise<void>;
  /** End of a complete walk: `write` (e.g. mark deleted) and success commit together. */
  complete(write: (tx: Tx) => Promise<void>, checkpoint: unknown): Promise<void>;
  /** undefined: the resume was abandoned and the walk started over. */
  setResumedFromPage(page: number | undefined): void;
}

export interface StreamJob {
  /** 'accounts', 'account-tokens:<account id>', ... */
  stream: string;
  walk(w: Walk): Promise<void>;
}

export type StreamOutcome =
  | { stream: string; status: 'succeeded'; counts: RunCounts; durationMs: number }
  | { stream: string; status: 'failed'; counts: RunCounts; durationMs: number; error: Error }
  | { stream: string; status: 'skipped'; reason: string };

const zeroCounts = (): RunCounts => ({ requests: 0, pages: 0, rowsFetched: 0, rowsUpserted: 0, rowsMarkedDeleted: 0, rowsQuarantined: 0 });

export function describeError(err: unknown): string {
  if (err instanceof CloudflareRequestError) return err.message;
  if (err instanceof Error) {
    // drizzle wraps driver errors as "Failed query: …"; the reason is in the cause.
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
    return `${err.name}: ${err.message.split('\n')[0]}${cause}`;
  }
  return String(err);
}

/** Walk one stream under its lock; record the run and the outcome. Never throws for a stream failure. */
export async function runStream(ctx: Context, job: StreamJob): Promise<StreamOutcome> {
  const log = ctx.log.child({ stream: job.stream });
  const outcome = await withStreamLock(ctx.db, job.stream, () => walkLocked(ctx, job, log));
  if (!outcome) {
    log.info('stream is being walked by another process; skipped');
    return { stream: job.stream, status: 'skipped', reason: 'locked by another walker' };
  }
  return outcome;
}

async function walkLocked(ctx: Context, job: StreamJob, log: Context['log']): Promise<StreamOutcome> {
  const started = Date.now();
  const { db } = ctx;
  await closeAbandonedRuns(db, job.stream, ctx.now());
  const state = await getSyncState(db, job.stream);
  const runId = await startRun(db, job.stream, ctx.now());
  const tally = newTally();
  const counts = zeroCounts();
  const sync = () => ({ ...counts, requests: tally.requests, resumed: resumedFrom ?? null });
  let completed = false;
  let resumedFrom: number | undefined;
  const walk: Walk = {
    ...ctx,
    log,
    stream: job.stream,
    cf: createApiClient(ctx.api, tally),
    tally,
    counts,
    checkpoint: state?.checkpoint ?? null,
    async commitPage(write, checkpoint) {
      await db.transaction(async (tx) => {
        // Rows and checkpoint commit together, so if Postgres itself crashes and loses the last
        // few asynchronously committed pages, it loses their checkpoint too and they are re-read.
        await tx.execute(sql`set local synchronous_commit = off`);
        await write(tx);
        await saveCheckpoint(tx, job.stream, checkpoint, ctx.now());
        await updateRun(tx, runId, sync());
      });
    },
    async complete(write, checkpoint) {
      await db.transaction(async (tx) => {
        await write(tx);
        await recordSuccess(tx, job.stream, checkpoint, ctx.now());
        await finishRun(tx, runId, 'succeeded', sync(), ctx.now());
      });
      completed = true;
    },
    setResumedFromPage(page) {
      if (page !== undefined) log.info({ page }, 'resuming an interrupted walk');
      resumedFrom = page;
    },
  };
  log.debug('walk started');
  try {
    await job.walk(walk);
    if (!completed) throw new Error(`internal: stream ${job.stream} ended its walk without completing it`);
    const durationMs = Date.now() - started;
    log.info({ ...sync(), durationMs }, 'walk succeeded');
    return { stream: job.stream, status: 'succeeded', counts: sync(), durationMs };
  } catch (err) {
    const message = describeError(err);
    await db
      .transaction(async (tx) => {
        await recordFailure(tx, job.stream, message, ctx.now());
        await finishRun(tx, runId, 'failed', sync(), ctx.now(), message);
      })
      .catch((dbErr: unknown) => log.error({ err: dbErr }, 'could not record the failure'));
    log.error({ ...sync(), error: message }, 'walk failed');
    return { stream: job.stream, status: 'failed', counts: sync(), durationMs: Date.now() - started, error: err as Error };
  }
}
