import { asc, eq, inArray, or, sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { pgTextArray } from './text-array.js';
import { subjectMonths, withinMonths } from './audit-subject-months.js';
import { accountMembers, accountMemberVersions, accounts, apiTokens, apiTokenVersions } from '../schema/index.js';

/** One audit-log event (one row of audit_events: a real event, with every log that holds it). */
export interface AuditEventRow {
  source: string;
  id: string;
  eventTime: Date;
  accountId: string | null;
  actionType: string | null;
  actionResult: string | null;
  actorEmail: string | null;
  actorId: string | null;
  actorIp: string | null;
  actorTokenId: string | null;
  actorTokenName: string | null;
  resourceType: string | null;
  resourceId: string | null;
  /** The email a member event names (v2 request, v1 new value or metadata). */
  subjectEmail: string | null;
  sources: string[];
}

/** Tokens whose id is `ref`, else whose name is (exactly, then ignoring case). */
export async function findTokens(tx: Tx, ref: string) {
  const cols = { id: apiTokens.id, name: apiTokens.name, ownerType: apiTokens.ownerType, accountId: apiTokens.accountId, userId: apiTokens.userId, status: apiTokens.status, deletedAt: apiTokens.deletedAt, deletedReason: apiTokens.deletedReason };
  const byId = await tx.select(cols).from(apiTokens).where(eq(apiTokens.id, ref));
  if (byId.length) return byId;
  const exact = await tx.select(cols).from(apiTokens).where(eq(apiTokens.name, ref)).orderBy(asc(apiTokens.id));
  if (exact.length) return exact;
  return tx.select(cols).from(apiTokens).where(sql`lower(${apiTokens.name}) = lower(${ref})`).orderBy(asc(apiTokens.id));
}

export async function tokenVersions(tx: Tx, tokenId: string) {
  return tx.select().from(apiTokenVersions).where(eq(apiTokenVersions.tokenId, tokenId)).orderBy(asc(apiTokenVersions.validFrom), asc(apiTokenVersions.versionId));
}

/** Every membership that has (or had) this email, in any account. */
export async function findMemberships(tx: Tx, email: string) {
  const ids = sql`(select member_id from account_member_versions where lower(email) = lower(${email}))`;
  return tx
    .select({ id: accountMembers.id, accountId: accountMembers.accountId, accountName: accounts.name, email: accountMembers.email, deletedAt: accountMembers.deletedAt, deletedReason: accountMembers.deletedReason })
    .from(accountMembers)
    .leftJoin(accounts, eq(accounts.id, accountMembers.accountId))
    .where(or(sql`lower(${accountMembers.email}) = lower(${email})`, inArray(accountMembers.id, ids)))
    .orderBy(asc(accountMembers.accountId), asc(accountMembers.id));
}

export async function memberVersions(tx: Tx, memberIds: string[]) {
  if (!memberIds.length) return [];
  return tx.select().from(accountMemberVersions).where(inArray(accountMemberVersions.memberId, memberIds))
    .orderBy(asc(accountMemberVersions.validFrom), asc(accountMemberVersions.versionId));
}

// Where a member event names the member: v2 request body, v1 new value, v1 metadata. The view's
// subject_email is this lower-cased, and the filter below uses it so its index answers (0023).
const SUBJECT_EMAIL = sql`coalesce(e.raw #>> '{resource,request,email}', e.raw #>> '{newValueJson,email}', e.raw #>> '{metadata,email}')`;

/**
 * Audit events about some resources: those naming one of the ids (resource types that look like
 * `typeLike`, found by a loose scan so the resource index serves the lookup), plus, for members,
 * additions and changes that name the email in the account.
 */
export async function resourceEvents(tx: Tx, q: { ids: string[]; typeLike: string; emails?: Array<{ accountId: string; email: string }> }): Promise<AuditEventRow[]> {
  if (!q.ids.length) return [];
  // Only the months that hold entries about them: no time bound would prune the others (0029).
  const months = await subjectMonths(tx, q);
  if (!months.length) return [];
  const byEmail = (q.emails ?? []).map((e) => sql`(e.account_id = ${e.accountId} and e.subject_email = lower(${e.email}))`);
  const res = await tx.execute<Record<string, unknown>>(sql`
    select e.source, e.id, e.event_time::text as event_time, e.account_id, e.action_type, e.action_result, e.actor_email, e.actor_id,
           e.actor_ip, e.actor_token_id, e.actor_token_name, e.resource_type, e.resource_id, ${SUBJECT_EMAIL} as subject_email, e.sources
    from audit_events e
    where ${withinMonths(sql`e.event_time`, months)}
      and e.resource_type = any(array(select t from flarewatch_audit_resource_types() t where t ilike ${`%${q.typeLike}%`}))
      and (e.resource_id = any(${pgTextArray(q.ids)}::text[])
           ${byEmail.length ? sql`or ${sql.join(byEmail, sql` or `)}` : sql``})
    order by e.event_time, e.source, e.id`);
  return res.rows.map((r) => ({
    source: String(r.source), id: String(r.id), eventTime: new Date(String(r.event_time)),
    accountId: (r.account_id as string | null) ?? null, actionType: (r.action_type as string | null) ?? null, actionResult: (r.action_result as string | null) ?? null,
    actorEmail: (r.actor_email as string | null) ?? null, actorId: (r.actor_id as string | null) ?? null, actorIp: (r.actor_ip as string | null) ?? null,
    actorTokenId: (r.actor_token_id as string | null) ?? null, actorTokenName: (r.actor_token_name as string | null) ?? null,
    resourceType: (r.resource_type as string | null) ?? null, resourceId: (r.resource_id as string | null) ?? null,
    subjectEmail: (r.subject_email as string | null) ?? null,
    sources: (r.sources as string[]) ?? [String(r.source)],
  }));
}

/** Permission group names by id, for describing policies that name groups by id only. */
export async function permissionGroupNames(tx: Tx): Promise<Map<string, string>> {
  const res = await tx.execute<{ id: string; name: string }>(sql`select id, name from permission_group_names where name is not null`);
  return new Map(res.rows.map((r) => [r.id, r.name]));
}
