import { asc, eq, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { suppressions, type Suppression } from '../schema/index.js';

export type NewSuppression = typeof suppressions.$inferInsert;

export async function insertSuppression(tx: Tx, row: NewSuppression): Promise<Suppression> {
  const [created] = await tx.insert(suppressions).values(row).returning();
  return created!;
}

/** Every suppression, expired ones included (matching checks expiry against the run's clock). */
export async function listSuppressions(tx: Tx): Promise<Suppression[]> {
  return tx.select().from(suppressions).orderBy(asc(suppressions.id));
}

/** Removes the suppression; the findings it covered become unsuppressed at the next check of their rule. */
export async function deleteSuppression(tx: Tx, id: number): Promise<boolean> {
  const res = await tx.delete(suppressions).where(eq(suppressions.id, id)).returning({ id: suppressions.id });
  return res.length > 0;
}

/** Findings each suppression currently covers, by suppression id. */
export async function suppressedCounts(tx: Tx): Promise<Map<number, number>> {
  const res = await tx.execute<{ id: string; n: string }>(
    sql`select suppression_id as id, count(*) as n from findings where suppressed and status = 'open' group by 1`,
  );
  return new Map(res.rows.map((r) => [Number(r.id), Number(r.n)]));
}
