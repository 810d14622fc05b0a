import type { AuditLogRow } from '../db/schema/audit-logs.js';
import { obj, str } from './fields.js';

export type AuditSource = AuditLogRow['source'];

export type MappedEntry = { ok: true; row: AuditLogRow } | { ok: false; reason: string };

export function validTime(v: unknown): Date | undefined {
  if (typeof v !== 'string') return undefined;
  // Only full RFC 3339 timestamps: a date alone or a loose string is not a usable event time.
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(v);
  if (!m) return undefined;
  // Date rolls impossible values over (Feb 30 → Mar 2, 24:00 → next day) instead of refusing them.
  const [year, month, day, hour] = [m[1], m[2], m[3], m[4]].map(Number) as [number, number, number, number];
  if (day > new Date(Date.UTC(year, month, 0)).getUTCDate() || hour > 23) return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

const result = (v: unknown) => (typeof v === 'boolean' ? (v ? 'success' : 'failure') : str(v));

/** v1 entry (/user/audit_logs, /accounts/{id}/audit_logs) → common columns. */
function v1Row(source: AuditSource, accountId: string | null, e: Record<string, unknown>, id: string, time: Date): AuditLogRow {
  const action = obj(e.action);
  const actor = obj(e.actor);
  const resource = obj(e.resource);
  const metadata = obj(e.metadata);
  return {
    source, id, eventTime: time,
    accountId: accountId ?? str(obj(e.owner).id), accountName: null,
    actionType: str(action.type), actionResult: result(action.result), actionDescription: null,
    actorId: str(actor.id), actorEmail: str(actor.email), actorIp: str(actor.ip), actorType: str(actor.type),
    actorContext: null, actorTokenId: null, actorTokenName: null, interface: str(e.interface),
    resourceType: str(resource.type), resourceId: str(resource.id), resourceProduct: null, resourceScope: null,
    zoneId: str(metadata.zone_id), zoneName: str(metadata.zone_name), raw: e,
  };
}

/** v2 entry (/accounts/{id}/logs/audit) → common columns. */
function v2Row(accountId: string | null, e: Record<string, unknown>, id: string, time: Date): AuditLogRow {
  const action = obj(e.action);
  const actor = obj(e.actor);
  const resource = obj(e.resource);
  const account = obj(e.account);
  const zone = obj(e.zone);
  return {
    source: 'account_v2', id, eventTime: time,
    accountId: str(account.id) ?? accountId, accountName: str(account.name),
    actionType: str(action.type), actionResult: result(action.result), actionDescription: str(action.description),
    actorId: str(actor.id), actorEmail: str(actor.email), actorIp: str(actor.ip_address), actorType: str(actor.type),
    actorContext: str(actor.context), actorTokenId: str(actor.token_id), actorTokenName: str(actor.token_name),
    interface: null, resourceType: str(resource.type), resourceId: str(resource.id),
    resourceProduct: str(resource.product), resourceScope: str(resource.scope),
    zoneId: str(zone.id), zoneName: str(zone.name), raw: e,
  };
}

/** Validate and map one entry; a bad one is reported with the reason, never thrown. */
export function mapAuditEntry(source: AuditSource, accountId: string | null, item: unknown): MappedEntry {
  if (!item || typeof item !== 'object' || Array.isArray(item)) return { ok: false, reason: 'entry is not an object' };
  const e = item as Record<string, unknown>;
  const id = typeof e.id === 'string' && e.id.trim() !== '' ? e.id : undefined;
  if (!id) return { ok: false, reason: 'entry has no id' };
  const rawTime = source === 'account_v2' ? obj(e.action).time : e.when;
  const time = validTime(rawTime);
  if (!time) return { ok: false, reason: `entry ${id} has an invalid timestamp: ${JSON.stringify(rawTime ?? null).slice(0, 60)}` };
  return { ok: true, row: source === 'account_v2' ? v2Row(accountId, e, id, time) : v1Row(source, accountId, e, id, time) };
}

/** The event time (ms) of a raw entry of this source, or undefined when it has none usable. */
export function entryTimeOf(source: AuditSource, item: unknown): number | undefined {
  const e = obj(item);
  return validTime(source === 'account_v2' ? obj(e.action).time : e.when)?.getTime();
}
