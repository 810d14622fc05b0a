import pg from 'pg';

// The statements a command sends, seen at the pg client (every pool and client of this process),
// and what their plans scan: what a test or the bench EXPLAINs to see which partitions a real
// command's queries plan. The statements still run against the real database.

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


/** One relation a plan reads, and how (the plan node's type: `Seq Scan`, `Index Scan`, ...). */
export interface PlanScan { nodeType: string; relation: string }

type PlanNode = { 'Node Type': string; 'Relation Name'?: string; Plans?: PlanNode[] };

function scans(node: PlanNode, out: PlanScan[]): void {
  if (node['Relation Name']) out.push({ nodeType: node['Node Type'], relation: node['Relation Name'] });
  for (const child of node.Plans ?? []) scans(child, out);
}

/** Every relation the plans of these statements read (EXPLAIN, not run); statements that do not read rows are skipped. */
export async function plannedScans(pool: pg.Pool, statements: Statement[]): Promise<PlanScan[]> {
  const out: PlanScan[] = [];
  for (const s of statements) {
    if (!/^\s*(select|with|insert|update|delete)\b/i.test(s.text)) continue;
    const res = await pool.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(`explain (format json) ${s.text}`, s.values);
    scans(res.rows[0]!['QUERY PLAN'][0]!.Plan, out);
  }
  return out;
}
