import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { createApiClient, newTally } from '../cloudflare/client.js';
import { CloudflareRequestError } from '../cloudflare/errors.js';
import type { Context } from '../context.js';
import { ownerOf } from '../credentials/types.js';
import type { Db } from '../db/client.js';
import * as schema from '../db/schema/index.js';
import {
  type HeldDeletions, type RunCounts, closeAbandonedRuns, finishRun, getSyncState, recordFailure, recordSuccess, saveCheckpoint, startRun, updateRun,
} from '../db/queries/sync-state.js';
import { parseStream, type StreamScope } from './catalog.js';
import { withStreamSession } from './stream-lock.js';
import { chooseWalker } from './walker.js';
import { LISTING_OF_KIND, writeListing } from './listings.js';

/** A listing the credential's kind cannot call: `not_applicable` in access_listings (never a failure, never empty). */
async function recordNotApplicable(ctx: Context, scope: StreamScope, reason: string): Promise<void> {
  const listing = LISTING_OF_KIND[scope.kind];
  if (!listing) return;
  await writeListing(ctx.db, { scope, credential: scope.type === 'credential' ? scope.credential : null, now: ctx.now() }, listing, { state: 'not_applicable', reason });
}

import type { StreamJob, Walk } from './walk.js';

export type { StreamJob, Walk };

export type StreamOutcome =
  | { stream: string; status: 'succeeded'; credential: string; counts: RunCounts; durationMs: number }
  | { stream: string; status: 'failed'; credential?: string; counts: RunCounts; durationMs: number; error: Error }
  | { stream: string; status: 'skipped'; reason: string }
  | { stream: string; status: 'not-applicable'; reason: string };

export interface RunOptions {
  confirmDeletions?: boolean;
}

const zeroCounts = (): RunCounts => ({
  requests: 0, pages: 0, rowsFetched: 0, rowsUpserted: 0, rowsMarkedDeleted: 0, rowsQuarantined: 0, deletionsHeld: 0, rewalks: 0,
});

/** No credential could walk the stream (none reaches it, or every candidate failed verification). */
export class WalkerError extends Error {
  override name = 'WalkerError';
}

export function describeError(err: unknown): string {
  if (err instanceof CloudflareRequestError) return err.message;
  if (err instanceof Error) {
    if (err.name === 'CredentialError' || err instanceof WalkerError) return err.message;
    // drizzle wraps driver errors as "Failed query: …"; the reason is in the cause.
    const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
    return `${err.name}: ${err.message.split('\n')[0]}${cause}`;
  }
  return String(err);
}

/** Walk one stream with its credential, under its lock; record the run and the outcome. Never throws for a stream failure. */
export async function runStream(ctx: Context, job: StreamJob, opts: RunOptions = {}): Promise<StreamOutcome> {
  const log = ctx.log.child({ stream: job.stream });
  const scope = parseStream(job.stream);
  const started = Date.now();
  const choice = await chooseWalker(ctx, scope);
  if (!choice.ok) {
    if (choice.status !== 'failed') {
      log.info({ reason: choice.reason }, choice.status === 'not-applicable' ? 'stream not applicable' : 'stream skipped');
      if (choice.status === 'not-applicable') await recordNotApplicable(ctx, scope, choice.reason).catch((err: unknown) => log.error({ err }, 'could not record the listing'));
      return choice.status === 'skipped' ? { stream: job.stream, status: 'skipped', reason: choice.reason } : { stream: job.stream, status: 'not-applicable', reason: choice.reason };
    }
    const error = new WalkerError(`stream ${job.stream}: ${choice.reason}`);
    // Recorded like any failed walk (sync_state and a run row), so status and history say why nothing was walked.
    await ctx.db
      .transaction(async (tx) => {
        await recordFailure(tx, job.stream, error.message, ctx.now());
        const runId = await startRun(tx, job.stream, scope.type === 'credential' ? scope.credential : '', ctx.now());
        await finishRun(tx, runId, 'failed', zeroCounts(), ctx.now(), error.message);
      })
      .catch((err: unknown) => log.error({ err }, 'could not record the failure'));
    log.error({ error: error.message }, 'walk failed');
    return { stream: job.stream, status: 'failed', counts: zeroCounts(), durationMs: Date.now() - started, error };
  }
  const outcome = await withStreamSession(ctx.db.$client, job.stream, (client) =>
    walkLocked({ ...ctx, log: log.child({ credential: choice.credential.name }) }, job, scope, choice, client, opts),
  );
  if (!outcome) {
    log.info('stream is being walked by another process; skipped');
    return { stream: job.stream, status: 'skipped', reason: 'locked by another walker' };
  }
  return outcome;
}

async function walkLocked(
  ctx: Context, job: StreamJob, scope: StreamScope, choice: Extract<Awaited<ReturnType<typeof chooseWalker>>, { ok: true }>,
  client: pg.PoolClient, opts: RunOptions,
): Promise<StreamOutcome> {
  const started = Date.now();
  const { log } = ctx;
  // Every query of the walk runs on the connection that holds its lock: one connection per walk.
  const db = drizzle(client, { schema }) as unknown as Db;
  await closeAbandonedRuns(db, job.stream, ctx.now());
  const state = await getSyncState(db, job.stream);
  const runId = await startRun(db, job.stream, choice.credential.name, ctx.now());
  const tally = newTally();
  const counts = zeroCounts();
  const notes: string[] = [];
  let completed = false;
  let resumedFrom: number | undefined;
  const sync = () => ({ ...counts, requests: tally.requests, rateLimited: tally.byStatus[429] ?? 0, resumed: resumedFrom ?? null, note: notes.length ? notes.join('; ') : null });
  const walk: Walk = {
    ...ctx,
    db,
    stream: job.stream,
    runId,
    scope,
    credential: choice.credential,
    identity: choice.identity,
    owner: ownerOf(choice.credential),
    cf: createApiClient(choice.credential.api, tally),
    api: choice.credential.api,
    tally,
    counts,
    checkpoint: state?.checkpoint ?? null,
    heldDeletions: (state?.heldDeletions as HeldDeletions | null | undefined) ?? null,
    confirmDeletions: opts.confirmDeletions === true,
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
    async complete(write, checkpoint, held) {
      await db.transaction(async (tx) => {
        await write(tx);
        await recordSuccess(tx, job.stream, checkpoint, ctx.now(), held === undefined ? undefined : held);
        await finishRun(tx, runId, 'succeeded', sync(), ctx.now());
      });
      completed = true;
    },
    setResumedFromPage(page) {
      if (page !== undefined) log.info({ page }, 'resuming an interrupted walk');
      resumedFrom = page;
    },
    note(text) {
      notes.push(text);
      log.warn({ note: text }, 'walk note');
    },
  };
  log.debug('walk started');
  try {
    await job.walk(walk);
    if (!completed) throw new Error(`internal: stream ${job.stream} ended its walk without completing it`);
    const durationMs = Date.now() - started;
    log.info({ ...sync(), durationMs }, 'walk succeeded');
    return { stream: job.stream, status: 'succeeded', credential: choice.credential.name, counts: sync(), durationMs };
  } catch (err) {
    const message = describeError(err);
    await db
      .transaction(async (tx) => {
        await recordFailure(tx, job.stream, message, ctx.now());
        await finishRun(tx, runId, 'failed', sync(), ctx.now(), message);
      })
      .catch((dbErr: unknown) => log.error({ err: dbErr }, 'could not record the failure'));
    log.error({ ...sync(), error: message }, 'walk failed');
    return { stream: job.stream, status: 'failed', credential: choice.credential.name, counts: sync(), durationMs: Date.now() - started, error: err as Error };
  }
}
