// Reads a custom rule's rows through a server-side cursor, bounded in rows, bytes and time, so
// a rule returning millions of rows (or a few enormous ones) fails alone instead of taking the
// process's heap with it.
//
// Every statement goes through the extended protocol (Parse/Bind/Execute; node-pg needs
// `queryMode: 'extended'`, empty `values` alone still sends a simple Query): the server parses
// the text as ONE statement and refuses a second, so no hand-written lexer has to guess where a
// statement ends.
import type { Socket } from 'node:net';
import type pg from 'pg';

export interface RuleBounds {
  /** Statement timeout of the whole read (ms). */
  timeoutMs: number;
  maxRows: number;
  maxBytes: number;
}

export interface RuleRows {
  fields: string[];
  rows: Array<Record<string, unknown>>;
}

const BATCH = 1000;

/** A statement sent through the extended protocol. */
export const extended = (text: string, values: unknown[] = []): pg.QueryConfig => ({ text, values, queryMode: 'extended' }) as pg.QueryConfig;
const CURSOR = 'flarewatch_rule';

/** The socket under a node-pg client: counting what arrives on it bounds memory before a message is parsed. */
const socketOf = (client: pg.Client) => (client as unknown as { connection: { stream: Socket } }).connection.stream;

/**
 * Runs `statement` in the open (READ ONLY) transaction of `client` and reads its rows. Before
 * each FETCH the timeout is set again to what is left of the rule's budget: the rule may change
 * its own statement_timeout from inside a query, never ours. More than `maxBytes` received ends
 * the connection at once.
 */
export async function readRuleRows(client: pg.Client, statement: string, bounds: RuleBounds): Promise<RuleRows> {
  const socket = socketOf(client);
  let received = 0;
  let overBytes = false;
  const count = (chunk: Buffer) => {
    received += chunk.length;
    if (received > bounds.maxBytes && !overBytes) {
      overBytes = true;
      socket.destroy();
    }
  };
  socket.on('data', count);
  const deadline = performance.now() + bounds.timeoutMs;
  const out: RuleRows = { fields: [], rows: [] };
  try {
    await client.query(extended(`DECLARE ${CURSOR} NO SCROLL CURSOR FOR ${statement}`));
    for (;;) {
      const left = Math.max(1, Math.floor(deadline - performance.now()));
      await client.query(extended("select set_config('statement_timeout', $1, true)", [String(left)]));
      const res = await client.query<Record<string, unknown>>(extended(`FETCH FORWARD ${BATCH} FROM ${CURSOR}`));
      out.fields = res.fields.map((f) => f.name);
      if (out.rows.length + res.rows.length > bounds.maxRows) {
        throw new Error(`the query returns more than ${bounds.maxRows} rows (customSql.maxRows); narrow it down or raise the bound`);
      }
      for (const row of res.rows) out.rows.push(row);
      if (res.rows.length < BATCH) return out;
    }
  } catch (err) {
    if (overBytes) throw new Error(`the query returns more than ${bounds.maxBytes} bytes (customSql.maxBytes); narrow it down or raise the bound`);
    throw err;
  } finally {
    socket.off('data', count);
  }
}
