import { type SQL, sql } from 'drizzle-orm';
import { type DayFacts, type Fact, type FactsQuery, factsQuery, hitsWithFacts, isFactsQuery } from './facts-query.js';
import { BROAD_RESOURCES, WRITE_SUFFIX } from './policy-model.js';
import type { HitRow, Rule, RuleContext, RuleHit } from './types.js';

// What the built-in rules share: SQL fragments (so "a live token" or "the audit window" means
// the same thing in every rule) and the readers of their resolved thresholds.

/** Run one query and return its rows. */
export async function query<T extends Record<string, unknown>>(ctx: RuleContext, q: SQL): Promise<T[]> {
  return (await ctx.db.execute<T>(q)).rows as T[];
}

/** A value bound as one parameter (drizzle would otherwise expand a JS array into a list). */
export const bind = (value: unknown) => sql`${sql.param(value)}`;
export const at = (d: Date) => sql`${sql.param(d.toISOString())}::timestamptz`;
export const daysBefore = (now: Date, days: number) => sql`(${at(now)} - make_interval(days => ${sql.param(days)}::int))`;
export const daysAfter = (now: Date, days: number) => sql`(${at(now)} + make_interval(days => ${sql.param(days)}::int))`;

/**
 * Rules see live, watched accounts only: `col` names no account whose row is deleted (gone
 * from /accounts, or no longer in FLAREWATCH_ACCOUNTS). Null (user-level) and accounts not
 * listed at all stay in.
 */
export const liveAccount = (col: SQL) => sql`not exists (select 1 from accounts dx where dx.id = ${col} and dx.deleted_at is not null)`;

/**
 * A token that can be used right now, as `t`: not deleted, status active, not past expiry,
 * not of a deleted account. Rules about what a token can do only look at these; expired ones have their own rule.
 */
export const liveToken = (now: Date) =>
  sql`t.deleted_at is null and t.status = 'active' and (t.expires_on is null or t.expires_on > ${at(now)}) and ${liveAccount(sql`t.account_id`)}`;

/** Name of a permission group by id, from any listing that had it (the ids are global). */
export const groupNameById = (idExpr: SQL) =>
  sql`(select n.name from permission_groups n where n.id = ${idExpr} and n.name is not null order by n.deleted_at nulls first, n.source limit 1)`;

/** A jsonb value, or an empty array/object when it has another type: keeps jsonb_* set functions from raising. */
const asArray = (e: SQL) => sql`(case when jsonb_typeof(${e}) = 'array' then ${e} else '[]'::jsonb end)`;
const asObject = (e: SQL) => sql`(case when jsonb_typeof(${e}) = 'object' then ${e} else '{}'::jsonb end)`;

export interface PolicyModelParams { sensitiveGroups: string[]; writeGroups: string[] }

/**
 * True when a policies jsonb array grants a sensitive group anywhere, or a write group on a
 * broad resource: the SQL form of assessPolicies() in ./policy-model.ts (same constants).
 */
export function policiesSensitiveOrBroadWrite(policies: SQL, m: PolicyModelParams): SQL {
  const sensitive = bind(m.sensitiveGroups.map((g) => g.trim().toLowerCase()));
  const writes = bind(m.writeGroups.map((g) => g.trim().toLowerCase()));
  return sql`exists (
    select 1
    from jsonb_array_elements(${asArray(policies)}) p
    cross join lateral jsonb_array_elements(${asArray(sql`p -> 'permission_groups'`)}) g
    cross join lateral (select lower(trim(coalesce(nullif(trim(g ->> 'name'), ''), ${groupNameById(sql`g ->> 'id'`)}))) as name) gn
    where jsonb_typeof(p) = 'object' and jsonb_typeof(g) = 'object'
      and lower(coalesce(p ->> 'effect', p ->> 'access')) = 'allow'
      and (gn.name = any(${sensitive}::text[])
        or ((gn.name ~ ${WRITE_SUFFIX} or gn.name = any(${writes}::text[]))
          and exists (
            select 1
            from jsonb_each(${asObject(sql`p -> 'resources'`)}) o
            left join lateral jsonb_object_keys(${asObject(sql`o.value`)}) i(key) on true
            where coalesce(i.key, o.key) = any(${bind([...BROAD_RESOURCES])}::text[]))))
  )`;
}

/** Every permission group name by id, for explaining policies that list groups by id only. */
export async function groupNames(ctx: RuleContext): Promise<Map<string, string>> {
  const rows = await query<{ id: string; name: string }>(ctx, sql`
    select distinct on (id) id, name from permission_groups where name is not null order by id, deleted_at nulls first, source`);
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** Audit entries of the look-back window, as `a`: [now − days, now]. */
export const auditWindow = (now: Date, days: number) =>
  sql`a.event_time >= ${daysBefore(now, days)} and a.event_time <= ${at(now)}`;

/** Role names that make a member an administrator, as ILIKE patterns. */
export const DEFAULT_ADMIN_ROLES = ['Super Administrator%', 'Administrator'];

// ---- thresholds: the engine resolved them from config; a wrong type is a bug worth a clear error ----

export function numberSetting(ctx: RuleContext, key: string): number {
  const v = ctx.thresholds[key];
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`threshold ${key} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

export function numbersSetting(ctx: RuleContext, key: string): number[] {
  const v = ctx.thresholds[key];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) {
    throw new Error(`threshold ${key} must be a list of numbers, got ${JSON.stringify(v)}`);
  }
  return v as number[];
}

export function stringsSetting(ctx: RuleContext, key: string): string[] {
  const v = ctx.thresholds[key];
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) throw new Error(`threshold ${key} must be a list of strings, got ${JSON.stringify(v)}`);
  return v as string[];
}

/** node-postgres via drizzle returns timestamptz as text; a Date is accepted too. */
export type Timestamp = string | Date;

/** Whole days from `v` to `now` (negative when `v` is ahead). */
export const ageDays = (now: Date, v: Timestamp) => Math.floor((now.getTime() - new Date(v).getTime()) / 86_400_000);

/** Timestamps as ISO text in facts: stable to compare between runs, readable in alerts. */
export const iso = (v: unknown): string | null =>
  v instanceof Date ? v.toISOString() : typeof v === 'string' ? new Date(v).toISOString() : null;

// ---- rules that are one query: hits staged in PostgreSQL, facts built there as Node would write them ----

/** A hit as a set-based rule's query returns it (HitRow), as evaluate() hands it out. */
export function hitOfRow(r: HitRow): RuleHit {
  return {
    resourceKey: r.resource_key, resourceType: r.resource_type, resourceName: r.resource_name, accountId: r.account_id,
    ...(r.severity ? { severity: r.severity } : {}),
    facts: r.facts,
    ...(r.last_event_at ? { lastEventAt: iso(r.last_event_at) } : {}),
  };
}

/**
 * A rule that is one query of HitRow's columns: a check run stages its hits without them leaving
 * PostgreSQL (100k hits cost no round trip through Node), and evaluate() reads the very same query.
 */
export function sqlRule(rule: Omit<Rule, 'evaluate' | 'hitsQuery'> & { hitsQuery(ctx: RuleContext): SQL | FactsQuery | Promise<SQL | FactsQuery> }): Rule {
  // In a transaction of its own (a savepoint inside the rule's): a query that reads first may stage what it read for the query.
  const evaluate = (ctx: RuleContext) => ctx.db.transaction(async (db) => {
    const inTx = { ...ctx, db };
    return (await query<HitRow>(inTx, hitRows(await rule.hitsQuery(inTx)))).map(hitOfRow);
  });
  return { ...rule, evaluate };
}

/** A rule's query as HitRow's rows in the rule's order, every hit's facts built. */
export const hitRows = (q: SQL | FactsQuery): SQL => (isFactsQuery(q) ? hitsWithFacts(q, { ordered: true }) : q);

/** A timestamp in facts as iso() writes it: UTC, milliseconds (truncated, as a JS Date holds them), Z. */
export const isoSql = (e: SQL) => sql`to_char(${e} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Whole days from `e` to `now` as ageDays() counts them (from the millisecond, rounded down). */
export const ageDaysSql = (now: Date, e: SQL) =>
  sql`floor((${sql.param(now.getTime())}::float8 - floor(extract(epoch from ${e}) * 1000)) / 86400000)::int`;

/** Whole days from `now` to `e` (ageDaysSql the other way round: a date ahead counts down). */
export const daysUntilSql = (now: Date, e: SQL) =>
  sql`floor((floor(extract(epoch from ${e}) * 1000) - ${sql.param(now.getTime())}::float8) / 86400000)::int`;

/**
 * A day count as a fact: its input is the date (so the input hash, hence the finding, does not move
 * as days pass), rendered as the count at `now`. `basis` names the fact that shows the date (as
 * iso()): readers count from it (finding_facts(), migration 0030).
 */
export const daysSinceFact = (now: Date, key: string, basis: string, date: SQL): Fact =>
  ({ key, input: date, render: (own) => ageDaysSql(now, own), days: { since: basis } });
export const daysUntilFact = (now: Date, key: string, basis: string, date: SQL): Fact =>
  ({ key, input: date, render: (own) => daysUntilSql(now, own), days: { until: basis } });

/** A number bound for facts (an int parameter stays an int in jsonb). */
export const num = (n: number) => (Number.isInteger(n) ? sql`${sql.param(n)}::int` : sql`${sql.param(n)}::float8`);

// ---- tokens: the columns every token rule selects and the hit they become ----

/**
 * A token rule as one query with declared facts (./facts-query.ts), `t` being the token: tokenHit()
 * in SQL. `columns` goes in the query's select list: the hit's columns and its facts' inputs,
 * owner_type (every token finding's first fact) first.
 */
export function tokenFactsQuery(facts: Fact[], rows: (columns: SQL) => SQL, severity: SQL = sql`null`): FactsQuery {
  return factsQuery([{ key: 'owner_type', input: sql`t.owner_type` }, ...facts], (inputs) => rows(sql`
    'token:' || t.id as resource_key, 'token'::text as resource_type, t.name as resource_name, t.account_id,
    ${severity}::text as severity, null::timestamptz as last_event_at, ${inputs}`));
}

/** A fact of a timestamp input, shown as iso() writes it. */
export const isoFact = (key: string, input: SQL): Fact => ({ key, input, render: isoSql });

export const TOKEN_COLUMNS = sql`t.id, t.name, t.owner_type, t.account_id`;
export interface TokenRow extends Record<string, unknown> { id: string; name: string | null; owner_type: string; account_id: string | null }

export function tokenHit(r: TokenRow, facts: Record<string, unknown>, severity?: RuleHit['severity']): RuleHit {
  return {
    resourceKey: `token:${r.id}`, resourceType: 'token', resourceName: r.name, accountId: r.account_id,
    ...(severity ? { severity } : {}),
    facts: { owner_type: r.owner_type, ...facts },
  };
}

// ---- members and invitations: user invites addressed to the credential's user, and pending account members ----

/**
 * A membership's resource key, `member:<account id>:<member id>`, as `m` (documented; what
 * suppressions match). Member ids are per account in the API, so the account is part of the key.
 */
export const memberKey = sql`'member:' || m.account_id || ':' || m.id`;

/**
 * Every outstanding invitation, as one row shape (the pending_invitations view). Age: user
 * invites carry invited_on; a pending member carries no date in the API, so its age comes from
 * the invite event in the audit log where there is one, else from when flarewatch first saw it
 * pending (a lower bound). `since_source` says which: invited_on, audit_log or first_seen_at.
 */
export const PENDING_INVITATIONS = sql`
  select p.key, p.type, p.id, p.account_id, p.name, p.email, p.invited_by, p.roles, p.expires_on, p.since, p.since_source,
         p.first_seen_at, p.invite_event
  from pending_invitations p where ${liveAccount(sql`p.account_id`)}`;

export interface InvitationRow extends Record<string, unknown> {
  key: string; type: 'invite' | 'member'; id: string; account_id: string | null; name: string | null; email: string | null;
  invited_by: string | null; roles: string[] | null; expires_on: Timestamp | null; since: Timestamp; since_source: string;
  first_seen_at: Timestamp; invite_event: string | null;
}

/** invitationHit()'s day count, for the rules that return it (Rule.dayFacts). */
export const INVITATION_DAY_FACTS: DayFacts = { age_days: { since: 'pending_since' } };

export function invitationHit(r: InvitationRow, now: Date, facts: Record<string, unknown> = {}): RuleHit {
  return {
    resourceKey: r.key, resourceType: r.type, resourceName: r.name, accountId: r.account_id,
    facts: {
      kind: r.type === 'invite' ? 'user_invite' : 'pending_member',
      email: r.email, roles: r.roles ?? [], invited_by: r.invited_by, expires_on: iso(r.expires_on),
      pending_since: iso(r.since), pending_since_source: r.since_source,
      first_seen_at: iso(r.first_seen_at), ...(r.invite_event ? { invite_event: r.invite_event } : {}),
      age_days: ageDays(now, r.since),
      ...facts,
    },
  };
}

/** True when any of a member's role names (`m.role_names`) matches one of the ILIKE patterns. */
export const hasRoleLike = (patterns: string[]) =>
  sql`exists (select 1 from unnest(coalesce(m.role_names, '{}'::text[])) r(name) where r.name ilike any(${bind(patterns)}::text[]))`;

// ---- audit logs ----

/**
 * One event can be archived twice (the user log and an account's v1 log share ids): keep one
 * row per id, preferring the account logs, so an event is one finding.
 */
export const auditSourcePreference = sql`case a.source when 'account_v2' then 0 when 'account_v1' then 1 else 2 end`;

/** The first of several jsonb paths of `a.raw` that holds an array (where v2 and v1 put a request's list). */
export const firstArray = (paths: string[]) =>
  sql`(select s.v from unnest(array[${sql.join(paths.map((p) => sql`a.raw #> ${bind(p)}::text[]`), sql`, `)}]) with ordinality s(v, o)
       where jsonb_typeof(s.v) = 'array' order by s.o limit 1)`;

/** An audit entry that did not fail (v1's boolean result is mapped to success/failure; a missing one counts). */
export const notFailed = sql`coalesce(a.action_result, 'success') <> 'failure'`;
