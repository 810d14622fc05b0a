import type { Db } from '../db/client.js';

/**
 * Run `fn` holding a session advisory lock named after the stream, on a connection of its
 * own. Returns undefined without running `fn` when another process holds the lock, so a
 * stream is never walked twice at once whatever the number of workers.
 */
export async function withStreamLock<T>(db: Db, stream: string, fn: () => Promise<T>): Promise<T | undefined> {
  const client = await db.$client.connect();
  let locked = false;
  let broken = false;
  // A checked-out client has no pool listener: its connection dying while idle (Postgres restarted)
  // would be an unhandled 'error' and end the process. The walk's own queries fail and it is retried;
  // the server ended the session, so the lock went with it.
  const onError = () => {
    broken = true;
  };
  client.on('error', onError);
  try {
    const res = await client.query<{ ok: boolean }>(
      "select pg_try_advisory_lock(hashtext('flarewatch:stream'), hashtext($1)) as ok",
      [stream],
    );
    locked = res.rows[0]?.ok === true;
    if (!locked) return undefined;
    return await fn();
  } finally {
    if (locked) {
      await client
        .query("select pg_advisory_unlock(hashtext('flarewatch:stream'), hashtext($1))", [stream])
        .catch(() => {
          broken = true;
        });
    }
    // A connection whose unlock failed may still hold the lock: destroy it rather than pool it.
    client.removeListener('error', onError);
    client.release(broken);
  }
}
