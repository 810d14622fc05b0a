import type pg from 'pg';
import type { Db } from '../db/client.js';

const LOCK_SQL = "select pg_try_advisory_lock(hashtext('flarewatch:stream'), hashtext($1)) as ok";
const UNLOCK_SQL = "select pg_advisory_unlock(hashtext('flarewatch:stream'), hashtext($1))";

/**
 * Run `fn` on a connection of its own that holds a session advisory lock named after `name`.
 * Returns undefined without running `fn` when another process holds the lock, so a stream is
 * never walked twice at once whatever the number of workers. The walk does all its database
 * work on this same connection: one connection per walk, so any pool of at least as many
 * connections as walks at once can never deadlock waiting for a second one.
 */
export async function withStreamSession<T>(pool: pg.Pool, name: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T | undefined> {
  const client = await pool.connect();
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
    const res = await client.query<{ ok: boolean }>(LOCK_SQL, [name]);
    locked = res.rows[0]?.ok === true;
    if (!locked) return undefined;
    return await fn(client);
  } finally {
    if (locked) {
      await client.query(UNLOCK_SQL, [name]).catch(() => {
        broken = true;
      });
    }
    // A connection whose unlock failed may still hold the lock: destroy it rather than pool it.
    client.removeListener('error', onError);
    client.release(broken);
  }
}

/** `withStreamSession` when `fn` needs no connection of its own (the check run's lock). */
export async function withStreamLock<T>(db: Db, name: string, fn: () => Promise<T>): Promise<T | undefined> {
  return withStreamSession(db.$client, name, () => fn());
}
