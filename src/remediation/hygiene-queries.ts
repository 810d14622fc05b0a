import { sql } from 'drizzle-orm';
import type { Tx } from '../db/client.js';

// The reads and rows hygiene policies need; the decisions are in hygiene.ts.

export interface Candidate extends Record<string, unknown> { finding_id: string; resource_key: string; resource_name: string | null; account_id: string | null; first_seen_at: Date; owner_email: string | null; last_used_on: Date | null }

/** Open, unsuppressed findings of `rule` on tokens, not excepted, not yet noticed by `policy` in this episode. */
export async function candidates(tx: Tx, rule: string, policy: string, now: Date): Promise<Candidate[]> {
  const { rows } = await tx.execute<Candidate>(sql`
    select f.id as finding_id, f.resource_key, f.resource_name, f.account_id, f.first_seen_at,
           coalesce(t.raw->>'creator_email_at_creation', u.email) as owner_email, t.last_used_on
    from findings f
    join api_tokens t on 'token:' || t.id = f.resource_key and t.deleted_at is null
    left join users u on u.id = t.user_id
    where f.rule_id = ${rule} and f.status = 'open' and not f.suppressed and f.kind = 'state'
      and not exists (select 1 from remediation_notices n where n.policy = ${policy} and n.object_key = f.resource_key and n.finding_id = f.id)
      and not exists (select 1 from remediation_exceptions e where e.object_key = f.resource_key and (e.rule is null or e.rule = ${rule})
                        and (e.expires_at is null or e.expires_at > ${now.toISOString()}::timestamptz))
    order by f.id`);
  return rows;
}

export interface OpenNotice extends Record<string, unknown> { id: string; object_key: string; finding_id: string; act_on: Date; last_used_on: Date | null; owner_email: string | null;
  finding_status: string | null; suppressed: boolean | null; token_last_used: Date | null; token_gone: boolean; exception: string | null }

/** Notices of `policy` with no final step yet, with what may cancel them. */
export async function openNotices(tx: Tx, policy: string, rule: string, now: Date): Promise<OpenNotice[]> {
  const { rows } = await tx.execute<OpenNotice>(sql`
    select n.id, n.object_key, n.finding_id, n.act_on, n.last_used_on, n.owner_email, f.status as finding_status, f.suppressed,
           t.last_used_on as token_last_used, (t.id is null or t.deleted_at is not null) as token_gone,
           (select e.created_by || ': ' || e.reason from remediation_exceptions e where e.object_key = n.object_key and (e.rule is null or e.rule = ${rule})
              and (e.expires_at is null or e.expires_at > ${now.toISOString()}::timestamptz) order by e.id desc limit 1) as exception
    from remediation_notices n
    left join findings f on f.id = n.finding_id
    left join api_tokens t on 'token:' || t.id = n.object_key
    where n.policy = ${policy}
      and not exists (select 1 from remediation_notice_events v where v.notice_id = n.id and v.kind in ('cancelled', 'planned'))
    order by n.id`);
  return rows;
}
