import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Tx } from './client.js';
import { copyField } from './queries/copy-text.js';

/** The pg client under a drizzle transaction, where COPY can run; undefined outside one. */
export function transactionClient(tx: Tx): pg.PoolClient | undefined {
  const client = (tx as unknown as { session?: { client?: pg.PoolClient } }).session?.client;
  return client && typeof client.query === 'function' && !(client instanceof pg.Pool) ? client : undefined;
}

/** Rows as COPY text in chunks of `per` lines: one stream write per row costs more than the row itself. */
function* copyChunks(rows: Iterable<readonly unknown[]>, per = 500): Generator<string> {
  let chunk: string[] = [];
  for (const r of rows) {
    chunk.push(r.map(copyField).join('\t'));
    if (chunk.length >= per) {
      yield `${chunk.join('\n')}\n`;
      chunk = [];
    }
  }
  if (chunk.length) yield `${chunk.join('\n')}\n`;
}

/** Stream rows into `table (columns)` with COPY in its text format, one field per column in order. */
export async function copyRows(client: pg.PoolClient, table: string, columns: readonly string[], rows: Iterable<readonly unknown[]>): Promise<void> {
  const lines = Readable.from(copyChunks(rows), { objectMode: false });
  await pipeline(lines, client.query(copyFrom(`copy ${table} (${columns.map((c) => `"${c}"`).join(', ')}) from stdin`)));
}
