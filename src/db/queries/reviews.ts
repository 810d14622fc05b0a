import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { pgTextArray } from './text-array.js';
import { reviewDecisions, reviewFindings, reviewItems, reviews, type ReviewDecision } from '../schema/index.js';

export type NewDecision = typeof reviewDecisions.$inferInsert;

export async function insertReview(tx: Tx, r: typeof reviews.$inferInsert): Promise<number> {
  const [row] = await tx.insert(reviews).values(r).returning({ id: reviews.id });
  return row!.id;
}

export async function reviewById(tx: Tx, id: number) {
  const [row] = await tx.select().from(reviews).where(eq(reviews.id, id));
  return row;
}

export async function latestReview(tx: Tx) {
  const [row] = await tx.select().from(reviews).orderBy(desc(reviews.startedAt), desc(reviews.id)).limit(1);
  return row;
}

/** The latest review started before `before` with exactly the same scope (accounts sorted; null: all). */
export async function previousReviewId(tx: Tx, accounts: string[] | null, before: Date): Promise<number | null> {
  const res = await tx.execute<{ id: number }>(sql`
    select id from reviews
    where started_at <= ${before.toISOString()}::timestamptz and accounts is not distinct from ${accounts ? pgTextArray(accounts) : null}::text[]
    order by started_at desc, id desc limit 1`);
  return res.rows[0] ? Number(res.rows[0].id) : null;
}

export async function listReviews(tx: Tx) {
  const res = await tx.execute<{ id: number; name: string; accounts: string[] | null; started_at: Date; started_by: string | null; items: number; decided: number }>(sql`
    select r.id, r.name, r.accounts, r.started_at, r.started_by,
           (select count(*)::int from review_items i where i.review_id = r.id) as items,
           (select count(distinct d.item_key)::int from review_decisions d where d.review_id = r.id) as decided
    from reviews r order by r.started_at desc, r.id desc`);
  return res.rows.map((r) => ({ ...r, started_at: new Date(r.started_at) }));
}

export async function itemsOf(tx: Tx, reviewId: number) {
  return tx.select().from(reviewItems).where(eq(reviewItems.reviewId, reviewId)).orderBy(asc(reviewItems.kind), asc(reviewItems.itemKey));
}

export async function findingsOf(tx: Tx, reviewId: number) {
  return tx.select().from(reviewFindings).where(eq(reviewFindings.reviewId, reviewId)).orderBy(asc(reviewFindings.findingId));
}

/** Every decision of a review, oldest first (the last one per item is in force). */
export async function decisionsOf(tx: Tx, reviewId: number): Promise<ReviewDecision[]> {
  return tx.select().from(reviewDecisions).where(eq(reviewDecisions.reviewId, reviewId)).orderBy(asc(reviewDecisions.decidedAt), asc(reviewDecisions.id));
}

export async function insertDecisions(tx: Tx, rows: NewDecision[]): Promise<void> {
  if (rows.length) await tx.insert(reviewDecisions).values(rows);
}
