import pg from 'pg';

// The statements a command sends, seen at the pg client (every pool and client of this process):
// what a test or the bench then EXPLAINs to see which partitions a real command's queries plan.
// The statements still run against the real database.

export interface Statement { text: string; values: unknown[] }

/** Run `fn` and return the statements it sent through any pg client of this process. */
export async function captured(fn: () => Promise<unknown>): Promise<Statement[]> {
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  const seen: Statement[] = [];
  proto.query = function (this: unknown, ...args: unknown[]) {
    const [first, second] = args as [unknown, unknown];
    if (typeof first === 'string') seen.push({ text: first, values: Array.isArray(second) ? second : [] });
    else if (first && typeof first === 'object' && 'text' in first) {
      const q = first as { text: string; values?: unknown[] };
      seen.push({ text: q.text, values: q.values ?? (Array.isArray(second) ? second : []) });
    }
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    proto.query = original;
  }
  return seen;
}

