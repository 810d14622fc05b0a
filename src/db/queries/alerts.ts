import { sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { alertDeliveries, alerts, type OutboxAlertKind } from '../schema/index.js';

// Outbox writes and the lookups they need. Decisions (which transition alerts, which sinks)
// live in src/alerts; these are plain statements.

export interface AlertRow {
  id: string;
  /** Null for a summary. */
  findingId: number | null;
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
/**
 * The finding as written with the transition (read in the same transaction): its facts are the
 * event's, day counts counted at `at` (the transition's time; finding_facts(), migration 0030).
 */
export interface FindingInfo {
  firstSeenAt: Date;
  accountName: string | null;
  facts: Record<string, unknown>;
}

export async function findingInfo(tx: Tx, ids: number[], at: Date | undefined): Promise<Map<number, FindingInfo>> {
  if (!ids.length) return new Map();
  const res = await tx.execute<{ id: string; first_seen_at: Date | string; name: string | null; facts: Record<string, unknown> }>(sql`
    select f.id, f.first_seen_at, a.name, finding_facts(f, coalesce(${at?.toISOString() ?? null}::timestamptz, now())) as facts
    from findings f left join accounts a on a.id = f.account_id
    where f.id = any(${`{${ids.join(',')}}`}::bigint[])`);
  return new Map(res.rows.map((r) => [Number(r.id), { firstSeenAt: new Date(r.first_seen_at), accountName: r.name, facts: r.facts }]));
}

export interface Episode {
  /** The fingerprint of the episode's first alert: its follow-ups carry it (PagerDuty's dedup_key). */
  fingerprint: string;
  /** Sinks with a delivery of the episode that is not dead: its resolution and reminders go there. */
  sinks: Array<{ sink: string; mode: 'immediate' | 'digest' }>;
}

/**
 * Each finding's current episode: its alerts after its last `resolved` one (absent when it has none).
 */
export async function currentEpisodes(tx: Tx, findingIds: number[]): Promise<Map<number, Episode>> {
  if (!findingIds.length) return new Map();
  const res = await tx.execute<{ finding_id: string; fingerprint: string; sinks: Episode['sinks'] }>(sql`
    with m as (
      select f.id, coalesce((select max(r.seq) from alerts r where r.finding_id = f.id and r.kind = 'resolved'), 0) as after
      from unnest(${sql.param(findingIds)}::bigint[]) f(id)
    ), ep as (
      select a.id, a.finding_id, a.fingerprint, a.seq from alerts a join m on m.id = a.finding_id and a.seq > m.after
      where a.kind <> 'resolved'
    )
    select ep.finding_id, (array_agg(ep.fingerprint order by ep.seq))[1] as fingerprint,
           coalesce(jsonb_agg(distinct jsonb_build_object('sink', d.sink, 'mode', d.mode)) filter (where d.status <> 'dead'), '[]'::jsonb) as sinks
    from ep left join alert_deliveries d on d.alert_id = ep.id
    group by ep.finding_id`);
  return new Map(res.rows.map((r) => [Number(r.finding_id), { fingerprint: r.fingerprint, sinks: r.sinks }]));
}

/** Serialises reminder writers, so two deliverers never remind twice in one interval. */
export async function lockReminders(tx: Tx): Promise<void> {
  await tx.execute(sql`select pg_advisory_xact_lock(hashtext('flarewatch:alerts:reminders'))`);
}

/**
 * Reminders, set-based: for every open, unsuppressed finding of `kind` whose episode's latest
 * alert is older than `dueBefore`, a `reminder` alert (that alert's event with the finding's
 * current severity and facts) and a delivery to each sink of the episode. Returns how many.
 */
export async function insertDueReminders(tx: Tx, kind: 'state' | 'detection', now: Date, dueBefore: Date): Promise<number> {
  const res = await tx.execute<{ n: number }>(sql`
    with m as (
      select f.id as finding_id, coalesce((select max(r.seq) from alerts r where r.finding_id = f.id and r.kind = 'resolved'), 0) as after
      from findings f where f.status = 'open' and not f.suppressed and f.kind = ${kind}
    ), episode as (
      select a.* from alerts a join m on m.finding_id = a.finding_id and a.seq > m.after where a.kind <> 'resolved'
    ), last as (
      select distinct on (e.finding_id) e.finding_id, e.event, e.created_at from episode e order by e.finding_id, e.seq desc
    ), due as (
      select gen_random_uuid() as id, f.id as finding_id, f.fingerprint as current, l.event ->> 'fingerprint' as fingerprint, f.severity,
             finding_facts(f, ${now.toISOString()}::timestamptz) as facts, l.event
      from last l join findings f on f.id = l.finding_id
      where l.created_at <= ${dueBefore.toISOString()}::timestamptz
    ), sinks as (
      select distinct e.finding_id, x.sink, x.mode
      from episode e join alert_deliveries x on x.alert_id = e.id join due d on d.finding_id = e.finding_id
      where x.status <> 'dead'
    ), ins as (
      insert into alerts (id, finding_id, fingerprint, kind, severity, event, created_at)
      select d.id, d.finding_id, coalesce(d.fingerprint, d.current), 'reminder', d.severity,
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
