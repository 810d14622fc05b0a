import type pg from 'pg';
import { monthOf } from '../../src/db/queries/audit-partitions.js';
import type { Simulator } from '../../src/simulator/index.js';
import { type AuditSource, mapAuditEntry } from '../../src/sync/audit-entry.js';

/**
 * Fill an archive in the layout before migration 0023 (audit_logs a table with every column) with
 * the simulator's audit entries, mapped as the sync maps them. The sync of this version writes
 * through 0023's functions, which an older schema lacks, so upgrade tests write the old way here.
 */
export async function fillLegacyArchive(pool: pg.Pool, sim: Simulator, accountIds: string[]): Promise<number> {
  const streams: Array<[AuditSource, string | null, Iterable<unknown>]> = [
    ['user_v1', null, sim.world.auditStream('user-v1').entries()],
    ...accountIds.flatMap((a) => [
      ['account_v2', a, sim.world.auditStream('account-v2', a).entries()] as [AuditSource, string, Iterable<unknown>],
      ['account_v1', a, sim.world.auditStream('account-v1', a).entries()] as [AuditSource, string, Iterable<unknown>],
    ]),
  ];
  let written = 0;
  for (const [source, account, entries] of streams) {
    const rows = [...entries].map((e) => mapAuditEntry(source, account, e)).flatMap((m) => (m.ok ? [m.row] : []));
    for (const month of new Set(rows.map((r) => monthOf(r.eventTime as Date)))) await pool.query(`select flarewatch_ensure_audit_partition($1::date)`, [month]);
    const records = rows.map((r) => ({
      source: r.source, id: r.id, event_time: (r.eventTime as Date).toISOString(), account_id: r.accountId, account_name: r.accountName,
      action_type: r.actionType, action_result: r.actionResult, action_description: r.actionDescription, actor_id: r.actorId,
      actor_email: r.actorEmail, actor_ip: r.actorIp, actor_type: r.actorType, actor_context: r.actorContext, actor_token_id: r.actorTokenId,
      actor_token_name: r.actorTokenName, interface: r.interface, resource_type: r.resourceType, resource_id: r.resourceId,
      resource_product: r.resourceProduct, resource_scope: r.resourceScope, zone_id: r.zoneId, zone_name: r.zoneName, raw: r.raw,
    }));
    const columns = Object.keys(records[0] ?? { source: '' });
    const types = columns.map((c) => `"${c}" ${c === 'event_time' ? 'timestamptz' : c === 'raw' ? 'jsonb' : 'text'}`).join(', ');
    const res = await pool.query(`insert into audit_logs (${columns.join(', ')}) select ${columns.join(', ')}
      from jsonb_to_recordset($1::jsonb) as x(${types}) on conflict do nothing`, [JSON.stringify(records)]);
    written += res.rowCount ?? 0;
  }
  return written;
}

/**
 * A member's audit events as `history member` found them before migration 0023 (the subject e-mail
 * read from raw): runs on either layout, so an upgrade test can ask the same before and after.
 */
export async function memberEventsAnyLayout(pool: pg.Pool, m: { id: string; account_id: string; email: string }): Promise<string[]> {
  const res = await pool.query(`
    select e.source || ':' || e.id || ':' || e.event_time::text || ':' || coalesce(e.actor_email, '') || ':' || array_to_string(e.sources, ',') as line
    from audit_events e
    where e.resource_type = any(array(select t from flarewatch_audit_resource_types() t where t ilike '%member%'))
      and (e.resource_id = $1 or (e.account_id = $2
        and lower(coalesce(e.raw #>> '{resource,request,email}', e.raw #>> '{newValueJson,email}', e.raw #>> '{metadata,email}')) = lower($3)))
    order by e.event_time, e.source, e.id`, [m.id, m.account_id, m.email]);
  return res.rows.map((r) => String(r.line));
}
