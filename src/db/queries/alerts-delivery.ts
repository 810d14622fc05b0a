import { sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import type { DeliveryStatus } from '../schema/index.js';

// Claiming and settling delivery rows. A claim is one UPDATE of a row picked with
// FOR UPDATE SKIP LOCKED: two deliverers never hold the same row, and the `sending` status
// with its lease (next_attempt_at) keeps it theirs after the claim commits.

export interface Claimed {
  id: number;
  alertId: string;
  attempts: number;
  event: unknown;
}

const iso = (d: Date) => d.toISOString();

/**
 * The next due immediate delivery of `sink`, oldest first; a row waits while an earlier alert
 * of the same finding to the same sink is not settled (so a resolve never overtakes its trigger).
 */
export async function claimNextDelivery(db: Tx, sink: string, now: Date, leaseMs: number): Promise<Claimed | undefined> {
  const res = await db.execute<{ id: string; alert_id: string; attempts: number; event: unknown }>(sql`
    update alert_deliveries d
    set status = 'sending', attempts = d.attempts + 1, next_attempt_at = ${iso(new Date(now.getTime() + leaseMs))}::timestamptz
    from alerts a
    where a.id = d.alert_id and d.id = (
      select d1.id from alert_deliveries d1 join alerts a1 on a1.id = d1.alert_id
      where d1.sink = ${sink} and d1.mode = 'immediate' and d1.status in ('pending', 'failed', 'sending')
        and d1.next_attempt_at <= ${iso(now)}::timestamptz
        and not exists (
          select 1 from alert_deliveries d2 join alerts a2 on a2.id = d2.alert_id
          where d2.sink = d1.sink and a2.finding_id = a1.finding_id and a2.seq < a1.seq
            and d2.status in ('pending', 'sending', 'failed'))
      order by a1.seq
      limit 1
      for update of d1 skip locked)
    returning d.id, d.alert_id, d.attempts, a.event`);
  const r = res.rows[0];
  return r && { id: Number(r.id), alertId: r.alert_id, attempts: r.attempts, event: r.event };
}

/** Settle a claimed row; a no-op when the claim was lost (lease ran out and another deliverer took it). */
export async function settleDelivery(
  db: Tx,
  id: number,
  attempts: number,
  to: { status: Exclude<DeliveryStatus, 'pending' | 'sending'>; at: Date; detail?: string; error?: string; nextAttemptAt?: Date },
): Promise<void> {
  await db.execute(sql`
    update alert_deliveries set status = ${to.status},
      sent_at = case when ${to.status} = 'sent' then ${iso(to.at)}::timestamptz else sent_at end,
      detail = coalesce(${to.detail ?? null}, detail),
      last_error = ${to.error ?? null},
      next_attempt_at = ${iso(to.nextAttemptAt ?? to.at)}::timestamptz
    where id = ${id} and status = 'sending' and attempts = ${attempts}`);
}

export interface DigestClaim {
  digestId: string;
  attempts: number;
  rows: Array<{ id: number; event: unknown; createdAt: Date }>;
}

/**
 * A digest to send for `sink`: first one whose earlier send failed or died mid-way (same
 * digest id, same rows: the id is its idempotency key), else every pending digest row, now.
 */
export async function claimDigest(tx: Tx, sink: string, now: Date, leaseMs: number, newId: string): Promise<DigestClaim | undefined> {
  const lease = iso(new Date(now.getTime() + leaseMs));
  const stuck = await tx.execute<{ digest_id: string }>(sql`
    select digest_id from alert_deliveries
    where sink = ${sink} and mode = 'digest' and digest_id is not null and status in ('sending', 'failed')
      and next_attempt_at <= ${iso(now)}::timestamptz
    limit 1 for update skip locked`);
  const again = stuck.rows[0]?.digest_id;
  const res = await tx.execute<{ id: string; digest_id: string; attempts: number; event: unknown; created_at: string | Date }>(
    again
      ? sql`
        update alert_deliveries d set status = 'sending', attempts = d.attempts + 1, next_attempt_at = ${lease}::timestamptz
        from alerts a where a.id = d.alert_id and d.digest_id = ${again}::uuid and d.status in ('sending', 'failed')
          and d.next_attempt_at <= ${iso(now)}::timestamptz
        returning d.id, d.digest_id, d.attempts, a.event, a.created_at`
      : sql`
        update alert_deliveries d set status = 'sending', attempts = d.attempts + 1, digest_id = ${newId}::uuid,
          next_attempt_at = ${lease}::timestamptz
        from alerts a
        where a.id = d.alert_id and d.id in (
          select id from alert_deliveries where sink = ${sink} and mode = 'digest' and status = 'pending' and digest_id is null
          for update skip locked)
        returning d.id, d.digest_id, d.attempts, a.event, a.created_at`,
  );
  if (!res.rows.length) return undefined;
  return {
    digestId: res.rows[0]!.digest_id,
    attempts: Math.max(...res.rows.map((r) => r.attempts)),
    rows: res.rows.map((r) => ({ id: Number(r.id), event: r.event, createdAt: new Date(r.created_at) })),
  };
}

export async function settleDigest(
  db: Tx,
  digestId: string,
  to: { status: Exclude<DeliveryStatus, 'pending' | 'sending'>; at: Date; detail?: string; error?: string; nextAttemptAt?: Date },
): Promise<void> {
  await db.execute(sql`
    update alert_deliveries set status = ${to.status},
      sent_at = case when ${to.status} = 'sent' then ${iso(to.at)}::timestamptz else sent_at end,
      detail = coalesce(${to.detail ?? null}, detail), last_error = ${to.error ?? null},
      next_attempt_at = ${iso(to.nextAttemptAt ?? to.at)}::timestamptz
    where digest_id = ${digestId}::uuid and status = 'sending'`);
}

export interface SinkCounts {
  sink: string;
  pending: number;
  sending: number;
  sent: number;
  failed: number;
  dead: number;
}

/** Deliveries per sink and status, over every row in the outbox. */
export async function deliveryCounts(db: Tx): Promise<SinkCounts[]> {
  const res = await db.execute<{ sink: string; status: DeliveryStatus; n: number }>(sql`
    select sink, status, count(*)::int as n from alert_deliveries group by 1, 2 order by 1`);
  const out = new Map<string, SinkCounts>();
  for (const r of res.rows) {
    const c = out.get(r.sink) ?? { sink: r.sink, pending: 0, sending: 0, sent: 0, failed: 0, dead: 0 };
    c[r.status] = r.n;
    out.set(r.sink, c);
  }
  return [...out.values()];
}
