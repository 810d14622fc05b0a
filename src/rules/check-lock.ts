import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from '../context.js';
import { withStreamLock } from '../sync/stream-lock.js';

const POLL_MS = 500;

/**
 * Run `fn` as the only check run in the organisation: every check (the daemon's job,
 * `flarewatch run`, `flarewatch check`, from any process) takes this one lock, and the rules
 * evaluate inside it, so an older evaluation can never be written over a newer one. A run
 * already in progress is waited for (until ctx.signal aborts), not failed on.
 */
export async function withCheckLock<T>(ctx: Pick<Context, 'db' | 'log' | 'signal'>, fn: () => Promise<T>): Promise<T> {
  let told = false;
  for (;;) {
    const ran = await withStreamLock(ctx.db, 'checks', async () => ({ value: await fn() }));
    if (ran) return ran.value;
    if (!told) ctx.log.info('another check run is in progress; waiting for it to finish');
    told = true;
    await sleep(POLL_MS, undefined, { signal: ctx.signal });
  }
}
