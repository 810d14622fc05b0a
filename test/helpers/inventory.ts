import type pg from 'pg';
import type { Simulator, World } from '../../src/simulator/index.js';
import { IAM_PERMISSION_GROUPS } from '../../src/simulator/iam/catalog.js';

/** Every inventory stream kind (no audit logs): what an inventory sync walks. */
export { INVENTORY_KINDS } from '../../src/sync/catalog.js';

/** The requests that tell what a user token is: its verify endpoint, then /user for the user behind it. */
export const IDENTITY_REQUESTS = { 'GET /user/tokens/verify': 1, 'GET /user': 1 };

/** The synced inventory tables, with the columns that identify a row. */
export const INVENTORY_TABLES: Record<string, string[]> = {
  users: ['id'],
  accounts: ['id'],
  api_tokens: ['id'],
  account_members: ['id'],
  account_roles: ['account_id', 'id'],
  permission_groups: ['source', 'id'],
  user_invites: ['id'],
  user_organizations: ['id'],
  subscriptions: ['id'],
  billing_history: ['id'],
  ip_access_rules: ['id'],
};

/** The access-path tables (migration 0016), kept apart: released schemas lack them. */
export const ACCESS_TABLES: Record<string, string[]> = {
  user_groups: ['id'], user_group_members: ['id'], resource_groups: ['id'], iam_permission_groups: ['account_id', 'id'], zones: ['id'],
  organizations: ['id'], organization_members: ['id'], organization_accounts: ['id'],
};

const PER_PAGE = 50;
const pages = (n: number) => Math.max(1, Math.ceil(n / PER_PAGE));

/**
 * The requests a complete inventory sync of `world` needs with one user token, by simulator route:
 * identifying the token (verify, /user) unless it was identified within the verify interval, then ceil(n / 50) per page-numbered listing (one for an
 * empty one), one per single-page endpoint.
 */
export function expectedRequests(world: World, opts: { identify?: boolean } = {}): Record<string, number> {
  const identify = opts.identify ?? true ? 1 : 0;
  const accounts = world.accounts;
  const sum = (f: (id: string) => number) => accounts.reduce((s, a) => s + f(a.id), 0);
  return {
    ...(identify ? { 'GET /user/tokens/verify': IDENTITY_REQUESTS['GET /user/tokens/verify'] } : {}),
    'GET /user': 1 + identify * IDENTITY_REQUESTS['GET /user'],
    'GET /accounts': pages(accounts.length),
    'GET /user/tokens': pages(world.userTokens.length),
    'GET /user/tokens/permission_groups': 1,
    'GET /user/invites': 1,
    'GET /user/organizations': pages(world.organizations.length),
    'GET /user/subscriptions': 1,
    'GET /user/billing/history': pages(world.billingHistory.length),
    'GET /user/firewall/access_rules/rules': pages(world.ipAccessRules.length),
    'GET /accounts/:account_id/tokens': sum((id) => pages(world.accountTokens(id).length)),
    'GET /accounts/:account_id/tokens/permission_groups': accounts.length,
    'GET /accounts/:account_id/members': sum((id) => pages(world.members(id).length)),
    'GET /accounts/:account_id/roles': sum((id) => pages(world.roles(id).length)),
    'GET /accounts/:account_id/subscriptions': accounts.length,
    ...accessRequests(world),
  };
}

const pagesOf = (n: number, size: number) => Math.max(1, Math.ceil(n / size));

/** The access-path listings: user groups and each group's members (100 a page), resource groups, IAM permission groups, zones, organizations. */
function accessRequests(world: World): Record<string, number> {
  const ids = world.accounts.map((a) => a.id);
  const sum = (f: (id: string) => number) => ids.reduce((s, id) => s + f(id), 0);
  const groups = (id: string) => world.access.userGroups(id);
  const orgs = world.access.orgs.filter((o) => o.members.some((m) => m.status === 'active' && m.user.id === world.user.id));
  return {
    'GET /accounts/:account_id/iam/user_groups': sum((id) => pagesOf(groups(id).length, 100)),
    'GET /accounts/:account_id/iam/user_groups/:user_group_id/members': sum((id) => groups(id).reduce((n, g) => n + pagesOf(world.access.groupMembers(id, g.id).length, 100), 0)),
    'GET /accounts/:account_id/iam/resource_groups': ids.length,
    'GET /accounts/:account_id/iam/permission_groups': ids.length * pagesOf(IAM_PERMISSION_GROUPS.length, 50),
    'GET /zones': sum((id) => pagesOf(world.zones.get(id)?.length ?? 0, 50)),
    'GET /organizations': 1,
    'GET /organizations/:organization_id/members': orgs.reduce((n, o) => n + pagesOf(o.members.length, 100), 0),
    'GET /organizations/:organization_id/accounts': orgs.reduce((n, o) => n + pagesOf(o.accountIds.length, 100), 0),
  };
}

/** The history tables (one row per observed state of a token, member, account, invitation). */
export const HISTORY_TABLES = ['api_token_versions', 'account_member_versions', 'account_versions', 'user_invite_versions',
  'user_group_versions', 'user_group_member_versions', 'resource_group_versions', 'organization_member_versions', 'organization_account_versions'];

/** Every history row with what changes when it is written (xmin) or closed (valid_to). */
export async function historyRows(pool: pg.Pool): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of HISTORY_TABLES) {
    out[t] = (await pool.query(`select version_id, xmin::text as xmin, valid_to::text as valid_to from ${t} order by version_id`)).rows;
  }
  return out;
}

export interface RowVersion {
  key: string;
  xmin: string;
  updated_at: string;
  last_seen_at: string;
  deleted_at: string | null;
}

/** Every row of an inventory table with what changes when it is rewritten (xmin) or touched. */
export async function rowVersions(pool: pg.Pool, table: string): Promise<RowVersion[]> {
  const key = (INVENTORY_TABLES[table] ?? ACCESS_TABLES[table])!.map((c) => `${c}::text`).join(` || '/' || `);
  const { rows } = await pool.query<RowVersion>(
    `select ${key} as key, xmin::text as xmin, updated_at::text as updated_at, last_seen_at::text as last_seen_at,
            deleted_at::text as deleted_at
       from ${table} order by 1`,
  );
  return rows;
}

/** Full text of every row of a table, in a stable order: for "nothing changed" comparisons. */
export async function tableText(pool: pg.Pool, table: string): Promise<string[]> {
  const { rows } = await pool.query<{ t: string }>(`select t::text as t from ${table} t order by 1`);
  return rows.map((r) => r.t);
}

/** Text of every inventory table, by name. */
export async function inventorySnapshot(pool: pg.Pool): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const table of Object.keys(INVENTORY_TABLES)) out[table] = await tableText(pool, table);
  return out;
}

/** Every table of the public schema (partitions included), for full-database scans. */
export async function publicTables(pool: pg.Pool): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1`,
  );
  return rows.map((r) => r.name);
}

/** A JSON round trip: what a jsonb column holding `v` gives back (key order aside). */
export const viaJson = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
