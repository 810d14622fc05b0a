import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import * as schema from './schema/index.js';

export type Db = NodePgDatabase<typeof schema> & { $client: pg.Pool };
/** A database handle or an open transaction: queries accept either. */
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0] | Db;

export interface Database {
  db: Db;
  pool: pg.Pool;
  close(): Promise<void>;
}

export interface PoolOptions {
  max?: number;
  /** Longest wait for a connection, new or from a full pool: an error after it, never a hang. */
  connectTimeoutMs?: number;
}

export function connectDatabase(url: string, opts: PoolOptions | number = {}): Database {
  const o = typeof opts === 'number' ? { max: opts } : opts;
  const pool = new pg.Pool({
    connectionString: url, max: o.max ?? 10, application_name: 'flarewatch', connectionTimeoutMillis: o.connectTimeoutMs ?? 30_000,
  });
  // An idle client losing its server (Postgres restart) must not crash the process; the pool replaces it.
  pool.on('error', () => undefined);
  // The pool listens only to idle clients. A checked-out one (a transaction between two statements, a
  // lock holder) losing its server would raise an unhandled 'error': swallow it here; its next query
  // fails instead, the job is retried, and the pool discards the dead client when it is released.
  pool.on('connect', (client) => client.on('error', () => undefined));
  const db = drizzle(pool, { schema });
  return { db, pool, close: () => pool.end() };
}
