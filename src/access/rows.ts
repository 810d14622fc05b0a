import { type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';

// What the access commands read: rows of effective_access (or effective_access_at(t)), and which
// accounts' pictures are incomplete. The model is SQL (migration 0017); this module only selects.

/** One effective_access row as the commands use it (column names as in the view). */
export interface AccessRow extends Record<string, unknown> {
  principal_type: 'member' | 'token';
  principal_id: string;
  principal: string | null;
  user_id: string | null;
  account_id: string | null;
  account_name: string | null;
  access: 'allow' | 'deny';
  permission_group_id: string | null;
  permission_group_name: string | null;
  resource_key: string;
  resource_kind: string;
  zone_id: string | null;
  zone_name: string | null;
  path: 'role' | 'policy' | 'group' | 'organization' | 'token';
  policy_id: string | null;
  group_id: string | null;
  group_name: string | null;
  organization_id: string | null;
  effective: boolean;
  not_effective_reason: string | null;
  picture_complete: boolean;
  picture_missing: string[];
}

export interface Incomplete extends Record<string, unknown> { account_id: string | null; account_name: string | null; missing: string[] }

/** The model now, or at an instant. */
export const accessSource = (at?: Date): SQL =>
  at ? sql`effective_access_at(${at.toISOString()}::timestamptz)` : sql`effective_access`;

/**
 * The model of one account only (migration 0022): the same rows as `accessSource(at)` where
 * account_id is that account, worked out from that account's members, groups and tokens alone.
 */
export const accountModel = (accountId: string, at?: Date): SQL =>
  sql`flarewatch_access_model(${at ? sql`${at.toISOString()}::timestamptz` : sql`null::timestamptz`}, true, ${accountId}::text)`;

export async function select<T extends Record<string, unknown>>(db: Db, q: SQL): Promise<T[]> {
  return (await db.execute<T>(q)).rows as T[];
}

/**
 * The incomplete pictures among these accounts (all when null), each with what it lacks: now, or
 * as the listings stood at `at` (access_pictures_at, migration 0031), never today's states for a
 * past answer. An instant before an account's history began is incomplete ("no picture known").
 */
export async function incompletePictures(db: Db, accounts: Array<string | null> | null, at?: Date): Promise<Incomplete[]> {
  const ids = accounts?.filter((a): a is string => a !== null) ?? null;
  // The user-level row is folded into every account's; with no account at all it is the only word on the picture.
  const scope = ids ? sql`account_id = any(${sql.param(ids)}::text[])` : sql`(account_id is not null or not exists (select 1 from accounts))`;
  const pictures = at ? sql`access_pictures_at(${at.toISOString()}::timestamptz)` : sql`access_pictures`;
  return select<Incomplete>(db, sql`
    select account_id, account_name, missing from ${pictures} p where not complete and ${scope} order by account_name, account_id`);
}

/** "access picture incomplete for account X: user-groups forbidden (403)", one line per account. */
export const incompleteLines = (list: Incomplete[]) =>
  list.map((p) => `access picture incomplete for account ${p.account_name ?? p.account_id ?? '(user level)'}: ${p.missing.join('; ')}`);
