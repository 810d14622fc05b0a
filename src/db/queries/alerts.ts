import { sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { alertDeliveries, alerts, type OutboxAlertKind } from '../schema/index.js';

// Outbox writes and the lookups they need. Decisions (which transition alerts, which sinks)
// live in src/alerts; these are plain statements.

export interface AlertRow {
  id: string;
  findingId: number;
  fingerprint: string;
  kind: OutboxAlertKind;
  severity: 'info' | 'low' | 'medium' | 'high' | 'critical';
  event: unknown;
  createdAt: Date;
}

export interface DeliveryRow {
  alertId: string;
  sink: string;
  mode: 'immediate' | 'digest';
  nextAttemptAt: Date;
}

export async function insertAlerts(tx: Tx, rows: AlertRow[]): Promise<void> {
  if (rows.length) await tx.insert(alerts).values(rows);
}

export async function insertDeliveries(tx: Tx, rows: DeliveryRow[]): Promise<void> {
  if (rows.length) await tx.insert(alertDeliveries).values(rows).onConflictDoNothing();
}

/** first_seen_at and account name of findings, by id. */
export async function findingInfo(tx: Tx, ids: number[]): Promise<Map<number, { firstSeenAt: Date; accountName: string | null }>> {
  if (!ids.length) return new Map();
  const res = await tx.execute<{ id: string; first_seen_at: Date | string; name: string | null }>(sql`
    select f.id, f.first_seen_at, a.name from findings f left join accounts a on a.id = f.account_id
    where f.id = any(${`{${ids.join(',')}}`}::bigint[])`);
  return new Map(res.rows.map((r) => [Number(r.id), { firstSeenAt: new Date(r.first_seen_at), accountName: r.name }]));
}

/**
 * The sinks that got (or are still getting: not dead) an alert of each finding's current
 * episode: every non-resolved alert since its latest `opened`. Resolutions and reminders go there.
 */
export async function episodeSinks(tx: Tx, findingIds: number[]): Promise<Map<number, Array<{ sink: string; mode: 'immediate' | 'digest' }>>> {
  if (!findingIds.length) return new Map();
  const res = await tx.execute<{ finding_id: string; sink: string; mode: 'immediate' | 'digest' }>(sql`
    select distinct a.finding_id, d.sink, d.mode
    from alerts a join alert_deliveries d on d.alert_id = a.id
    where a.finding_id = any(${`{${findingIds.join(',')}}`}::bigint[]) and a.kind <> 'resolved' and d.status <> 'dead'
      and a.seq >= (select max(o.seq) from alerts o where o.finding_id = a.finding_id and o.kind = 'opened')
    order by 1, 2`);
  const out = new Map<number, Array<{ sink: string; mode: 'immediate' | 'digest' }>>();
  for (const r of res.rows) {
    const id = Number(r.finding_id);
    out.set(id, [...(out.get(id) ?? []), { sink: r.sink, mode: r.mode }]);
  }
  return out;
}

/** Serialises reminder writers, so two deliverers never remind twice in one interval. */
export async function lockReminders(tx: Tx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('flarewatch:alerts:reminders'))`);
}

/**
 * Reminders, set-based: for every open, unsuppressed finding whose latest opened/reminder
 * alert is older than `dueBefore`, a `reminder` alert (the last one's event with the finding's
 * current severity and facts) and a delivery to each sink of the episode. Returns how many.
 */
export async function insertDueReminders(tx: Tx, now: Date, dueBefore: Date): Promise<number> {
  const res = await tx.execute<{ n: number }>(sql`
    with last as (
      select distinct on (a.finding_id) a.finding_id, a.event, a.created_at
      from alerts a where a.kind in ('opened', 'reminder')
      order by a.finding_id, a.seq desc
    ), due as (
      select gen_random_uuid() as id, f.id as finding_id, f.fingerprint, f.severity, f.facts, l.event
      from last l join findings f on f.id = l.finding_id
      where f.status = 'open' and not f.suppressed and l.created_at <= ${dueBefore.toISOString()}::timestamptz
    ), sinks as (
      select distinct d.finding_id, x.sink, x.mode
      from due d join alerts a on a.finding_id = d.finding_id join alert_deliveries x on x.alert_id = a.id
      where a.kind <> 'resolved' and x.status <> 'dead'
        and a.seq >= (select max(o.seq) from alerts o where o.finding_id = a.finding_id and o.kind = 'opened')
    ), ins as (
      insert into alerts (id, finding_id, fingerprint, kind, severity, event, created_at)
      select d.id, d.finding_id, d.fingerprint, 'reminder', d.severity,
             d.event || jsonb_build_object('alertId', d.id::text, 'kind', 'reminder', 'severity', d.severity, 'facts', d.facts,
                                           'occurredAt', to_char(${now.toISOString()}::timestamptz at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))
                     - 'previousSeverity',
             ${now.toISOString()}::timestamptz
      from due d where exists (select 1 from sinks s where s.finding_id = d.finding_id)
      returning id, finding_id
    ), del as (
      insert into alert_deliveries (alert_id, sink, mode, next_attempt_at)
      select i.id, s.sink, s.mode, ${now.toISOString()}::timestamptz from ins i join sinks s on s.finding_id = i.finding_id
      returning 1
    )
    select (select count(*) from ins)::int as n`);
  return res.rows[0]?.n ?? 0;
}
