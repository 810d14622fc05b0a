import { type SQL, sql } from 'drizzle-orm';
import { pathText } from '../../access/sql.js';
import type { Tx } from '../client.js';
import { pgTextArray } from './text-array.js';

// The SQL that freezes a review: everything a reviewer signs off, copied into review_items and
// review_findings in the review's transaction, so later syncs never change what was reviewed.

/** A timestamp as fixed UTC text: the frozen snapshot reads the same whatever the session's time zone. */
const utc = (e: SQL) => sql`to_char(${e} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;

/** Only the scoped accounts (every live account when `accounts` is null). */
const inScope = (accounts: string[] | null, col: SQL) => (accounts ? sql`${col} = any(${pgTextArray(accounts)}::text[])` : sql`true`);

/**
 * Each principal's access per account from the model (effective_access; for members
 * effective_member_access, the same member rows without working out every token's), read once and joined:
 * what holds (one line per path) and what is removed (with why), and whether the picture was whole.
 */
const accessByPrincipal = (type: 'member' | 'token') => sql`(
  select e.principal_id, ${type === 'member' ? sql`e.account_id` : sql`null::text`} as account_id,
    coalesce(array_agg(distinct ${pathText()}${type === 'token' ? sql` || coalesce(' in ' || coalesce(e.account_name, e.account_id), '')` : sql``}) filter (where e.effective), '{}') as holds,
    coalesce(array_agg(distinct ${pathText()} || ': ' || e.not_effective_reason) filter (where not e.effective), '{}') as removed,
    bool_and(e.picture_complete) as complete,
    coalesce(array_agg(distinct array_to_string(e.picture_missing, '; ')) filter (where cardinality(e.picture_missing) > 0), '{}') as missing
  from ${type === 'member' ? sql`effective_member_access` : sql`effective_access`} e where e.principal_type = ${type}
  group by e.principal_id${type === 'member' ? sql`, e.account_id` : sql``})`;

/** Members of live accounts: roles, policies, 2FA, the invitation, last activity in the audit log. */
export async function freezeMembers(tx: Tx, reviewId: number, accounts: string[] | null): Promise<number> {
  // Last activity: the newest entry the member acted in, in this account (or the user's own log), by email or user id.
  // Read from the store (migration 0023): the member's actor references first, then each one's newest
  // entry by the (actor, time) index; through the view the planner walked the whole archive back in time.
  const activity = (match: SQL) => sql`(select e.event_time, at.key ->> 2 as actor_ip, an.key ->> 0 as action_type, e.source
    from audit_actors at
    cross join lateral (select e.event_time, e.source, e.action_ref from audit_entries e
      where e.actor_ref = at.ref and (e.source = 'user_v1' or e.account_ref in (select c.ref from audit_accounts c where c.key ->> 0 = m.account_id))
      order by e.event_time desc limit 1) e
    left join audit_actions an on an.ref = e.action_ref
    where ${match} order by e.event_time desc limit 1)`;
  const res = await tx.execute(sql`
    insert into review_items (review_id, item_key, kind, account_id, label, snapshot)
    select ${reviewId}, 'member:' || m.account_id || ':' || m.id, 'member', m.account_id, coalesce(m.email, m.id),
      jsonb_build_object(
        'member_id', m.id, 'account_id', m.account_id, 'account_name', a.name, 'user_id', m.user_id, 'email', m.email,
        'status', m.status, 'two_factor_enabled', m.two_factor_enabled, 'account_enforces_twofactor', a.enforce_twofactor,
        'roles', coalesce(to_jsonb(m.role_names), '[]'::jsonb), 'policies', coalesce(m.policies, '[]'::jsonb),
        'access', coalesce(to_jsonb(acc.holds), '[]'::jsonb), 'access_removed', coalesce(to_jsonb(acc.removed), '[]'::jsonb),
        'access_picture_complete', coalesce(acc.complete, pic.complete, false),
        'access_picture_missing', coalesce(to_jsonb(acc.missing), to_jsonb(pic.missing), '["account not synced"]'::jsonb),
        'first_seen_at', ${utc(sql`m.first_seen_at`)},
        'invited_at', ${utc(sql`inv.since`)}, 'invited_at_source', inv.since_source, 'invited_by', inv.invited_by,
        'last_activity', case when act.event_time is null then null else jsonb_build_object(
          'at', ${utc(sql`act.event_time`)}, 'ip', act.actor_ip, 'action', act.action_type, 'source', act.source) end)
    from account_members m
    join accounts a on a.id = m.account_id and a.deleted_at is null
    left join pending_invitations inv on inv.type = 'member' and inv.id = m.id
    left join ${accessByPrincipal('member')} acc on acc.account_id = m.account_id and acc.principal_id = m.id
    left join access_pictures pic on pic.account_id = m.account_id
    left join lateral (
      select * from (${activity(sql`m.email is not null and at.key ->> 1 = m.email`)}
                     union all ${activity(sql`m.user_id is not null and at.key ->> 0 = m.user_id`)}) x
      order by x.event_time desc limit 1
    ) act on true
    where m.deleted_at is null and ${inScope(accounts, sql`m.account_id`)}`);
  // Organization members hold access to the account without a membership of it: reviewed all the same.
  const org = await tx.execute(sql`
    insert into review_items (review_id, item_key, kind, account_id, label, snapshot)
    select ${reviewId}, 'member:' || acc.account_id || ':' || acc.principal_id, 'member', acc.account_id, coalesce(o.email, acc.principal_id),
      jsonb_build_object(
        'member_id', acc.principal_id, 'account_id', acc.account_id, 'account_name', a.name, 'user_id', o.user_id, 'email', o.email,
        'status', o.status, 'two_factor_enabled', o.two_factor_enabled, 'organization_id', o.organization_id, 'roles', '[]'::jsonb, 'policies', '[]'::jsonb,
        'access', to_jsonb(acc.holds), 'access_removed', to_jsonb(acc.removed),
        'access_picture_complete', acc.complete, 'access_picture_missing', to_jsonb(acc.missing))
    from ${accessByPrincipal('member')} acc
    join organization_members o on 'organization-member:' || o.organization_id || ':' || o.member_id = acc.principal_id and o.deleted_at is null
    join accounts a on a.id = acc.account_id and a.deleted_at is null
    where acc.principal_id like 'organization-member:%' and ${inScope(accounts, sql`acc.account_id`)}`);
  return (res.rowCount ?? 0) + (org.rowCount ?? 0);
}

/**
 * Tokens: account-owned ones of live accounts; user-owned ones (with a scope: of a user who is a
 * member of a scoped account, or of a credential that reaches one). Owner, grants, expiry, last use,
 * IP restriction, and who created it (the API's creator_email_at_creation, else the audit log).
 */
export async function freezeTokens(tx: Tx, reviewId: number, accounts: string[] | null): Promise<number> {
  const scoped = accounts ? pgTextArray(accounts) : null;
  const userScope = scoped
    ? sql`(exists (select 1 from account_members m where m.deleted_at is null and m.user_id = t.user_id and m.account_id = any(${scoped}::text[]))
        or exists (select 1 from account_access x where x.deleted_at is null and t.user_id = 'credential:' || x.credential and x.account_id = any(${scoped}::text[])))`
    : sql`true`;
  const grant = sql`g.effect || ' ' || coalesce(g.permission_group_name, g.permission_group_id, '?') || ' on '
    || coalesce(g.resource_parent || ' > ', '') || g.resource_key || case when g.resource_value is distinct from '*' then ' = ' || coalesce(g.resource_value, 'null') else '' end`;
  const res = await tx.execute(sql`
    insert into review_items (review_id, item_key, kind, account_id, label, snapshot)
    select ${reviewId}, 'token:' || t.id, 'token', t.account_id, coalesce(t.name, t.id),
      jsonb_build_object(
        'token_id', t.id, 'name', t.name, 'owner_type', t.owner_type, 'account_id', t.account_id, 'account_name', a.name,
        'user_id', t.user_id,
        'owner', case when t.owner_type = 'account' then 'account ' || coalesce(a.name, t.account_id) else coalesce(u.email, c.user_email, t.user_id) end,
        'status', t.status, 'issued_on', ${utc(sql`t.issued_on`)}, 'expires_on', ${utc(sql`t.expires_on`)},
        'not_before', ${utc(sql`t.not_before`)}, 'last_used_on', ${utc(sql`t.last_used_on`)},
        'ip_allow', coalesce(to_jsonb(t.ip_allow), '[]'::jsonb), 'ip_deny', coalesce(to_jsonb(t.ip_deny), '[]'::jsonb),
        'grants', coalesce((select jsonb_agg(distinct ${grant} order by ${grant}) from flarewatch_policy_grants(t.policies) g), '[]'::jsonb),
        'access', coalesce(to_jsonb(acc.holds), '[]'::jsonb), 'access_removed', coalesce(to_jsonb(acc.removed), '[]'::jsonb),
        'access_picture_complete', coalesce(acc.complete, false), 'access_picture_missing', coalesce(to_jsonb(acc.missing), '[]'::jsonb),
        'grants_known', coalesce(t.raw ->> 'flarewatch_source', '') <> 'tokens/verify',
        'creator', coalesce(t.raw ->> 'creator_email_at_creation', cr.actor_email),
        'creator_source', case when t.raw ->> 'creator_email_at_creation' is not null then 'api' when cr.actor_email is not null then 'audit_log' end,
        'created_event', case when cr.id is null then null else cr.source || ':' || cr.id end)
    from api_tokens t
    left join accounts a on a.id = t.account_id
    left join users u on u.id = t.user_id
    left join ${accessByPrincipal('token')} acc on acc.principal_id = t.id
    left join lateral (select x.user_email from credentials x where 'credential:' || x.name = t.user_id) c on true
    left join lateral (
      select e.actor_email, e.source, e.id from audit_events e
      where e.resource_type = any(array(select rt from flarewatch_audit_resource_types() rt where rt ilike '%token%'))
        and e.resource_id = t.id and lower(coalesce(e.action_type, '')) ~ '(create|issue)' and coalesce(e.action_result, 'success') <> 'failure'
      order by e.event_time limit 1
    ) cr on true
    where t.deleted_at is null and (t.account_id is null or a.deleted_at is null)
      and case when t.owner_type = 'account' then ${inScope(accounts, sql`t.account_id`)} else ${userScope} end`);
  return res.rowCount ?? 0;
}

/**
 * The open findings on the review's items, and on its accounts, with the controls their rules
 * support (`controls`: rule id → references, from the rules as loaded now).
 */
export async function freezeFindings(tx: Tx, reviewId: number, accounts: string[] | null, controls: Record<string, string[]>): Promise<number> {
  const res = await tx.execute(sql`
    insert into review_findings (review_id, finding_id, item_key, rule_id, kind, severity, title, resource_key, resource_name,
      account_id, suppressed, suppression_reason, facts, first_seen_at, controls)
    select ${reviewId}, f.id, i.item_key, f.rule_id, f.kind, f.severity, f.title, f.resource_key, f.resource_name,
      f.account_id, f.suppressed, s.reason, finding_facts(f), f.first_seen_at,
      coalesce(array(select jsonb_array_elements_text(${JSON.stringify(controls)}::jsonb -> f.rule_id)), '{}')
    from findings f
    left join review_items i on i.review_id = ${reviewId} and i.item_key = f.resource_key
    left join suppressions s on s.id = f.suppression_id
    where f.status = 'open'
      and (i.item_key is not null
        or (f.resource_key like 'account:%' and exists (select 1 from accounts a where a.id = substr(f.resource_key, 9) and a.deleted_at is null
              and ${inScope(accounts, sql`a.id`)})))`);
  return res.rowCount ?? 0;
}

/** Each access-relevant stream of the scope with its last success and error: how fresh the snapshot is. */
export async function streamFreshness(tx: Tx, accounts: string[] | null) {
  const kinds = ['accounts', 'user', 'user-tokens', 'user-invites', 'permission-groups', 'account-tokens', 'account-permission-groups', 'members', 'roles', 'account-audit', 'account-audit-v1', 'user-audit'];
  const accountScope = accounts ? sql`(split_part(stream, ':', 2) = '' or split_part(stream, ':', 1) not in ('account-tokens', 'account-permission-groups', 'members', 'roles', 'account-audit', 'account-audit-v1') or split_part(stream, ':', 2) = any(${pgTextArray(accounts)}::text[]))` : sql`true`;
  const res = await tx.execute<{ stream: string; last_success_at: string | null; last_error_at: string | null; last_error: string | null }>(sql`
    select stream, ${utc(sql`last_success_at`)} as last_success_at, ${utc(sql`last_error_at`)} as last_error_at, left(last_error, 300) as last_error
    from sync_state
    where split_part(stream, ':', 1) = any(${pgTextArray(kinds)}::text[]) and ${accountScope}
      -- An account no longer watched is not walked any more: its streams say nothing about this snapshot.
      and not exists (select 1 from accounts a where a.id = split_part(stream, ':', 2) and a.deleted_at is not null)
    order by stream`);
  return res.rows;
}

/** A review's members by status ('organization': organization members, who hold access without a membership). */
export async function frozenMemberKinds(tx: Tx, reviewId: number): Promise<Map<string, number>> {
  const res = await tx.execute<{ k: string; n: number }>(sql`
    select case when snapshot ? 'organization_id' then 'organization' else coalesce(snapshot ->> 'status', 'unknown') end as k, count(*)::int as n
    from review_items where review_id = ${reviewId} and kind = 'member' group by 1`);
  return new Map(res.rows.map((r) => [r.k, Number(r.n)]));
}
