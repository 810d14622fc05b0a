import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';
import type { RemediationKind } from '../db/schema/index.js';

/**
 * What an action changes, named as findings name it (`token:<id>`, `member:<account>:<id>`,
 * `invite:<id>`, `group-member:<account>:<group>:<member>`), with the paths to read and write it.
 */
export interface Target {
  objectKey: string;
  type: 'token' | 'member' | 'invite' | 'group-member';
  accountId: string | null;
  /** The id an audit entry of the write names as its resource. */
  resourceId: string;
  /** GET path of the object; the write path for tokens, members and group members is the same. */
  path: string;
  label: string | null;
  /** A user token's user: only that user's own credential reaches it (GET /user/tokens/<id>). */
  userId?: string | null;
}

export class TargetError extends Error {
  override name = 'TargetError';
}

/** A token, member or invitation key resolved against the inventory (which tells user from account tokens). */
export async function resolveTarget(db: Db, key: string): Promise<Target> {
  const [type, ...rest] = key.split(':');
  if (type === 'token' && rest.length === 1) {
    const { rows } = await db.execute<{ owner_type: string; account_id: string | null; name: string | null; user_id: string | null }>(
      sql`select owner_type, account_id, name, user_id from api_tokens where id = ${rest[0]} and deleted_at is null`);
    const t = rows[0];
    if (!t) throw new TargetError(`${key}: no such token in the inventory (run a sync first)`);
    const path = t.owner_type === 'account' ? `/accounts/${t.account_id}/tokens/${rest[0]}` : `/user/tokens/${rest[0]}`;
    return { objectKey: key, type: 'token', accountId: t.account_id, resourceId: rest[0]!, path, label: t.name, userId: t.owner_type === 'account' ? null : t.user_id };
  }
  if (type === 'member' && rest.length === 2) {
    const [accountId, id] = rest as [string, string];
    const { rows } = await db.execute<{ email: string | null }>(
      sql`select email from account_members where id = ${id} and account_id = ${accountId} and deleted_at is null`);
    if (!rows[0]) throw new TargetError(`${key}: no such account member in the inventory`);
    return { objectKey: key, type: 'member', accountId, resourceId: id, path: `/accounts/${accountId}/members/${id}`, label: rows[0].email };
  }
  if (type === 'invite' && rest.length === 1) {
    const { rows } = await db.execute<{ organization_name: string | null }>(
      sql`select organization_name from user_invites where id = ${rest[0]} and deleted_at is null`);
    if (!rows[0]) throw new TargetError(`${key}: no such user invitation in the inventory`);
    return { objectKey: key, type: 'invite', accountId: null, resourceId: rest[0]!, path: `/user/invites/${rest[0]}`, label: rows[0].organization_name };
  }
  if (type === 'group-member' && rest.length === 3) {
    const [accountId, group, member] = rest as [string, string, string];
    return { objectKey: key, type: 'group-member', accountId, resourceId: group,
      path: `/accounts/${accountId}/iam/user_groups/${group}/members/${member}`, label: null };
  }
  throw new TargetError(`${key}: not an object key (token:<id>, member:<account>:<id>, invite:<id>, group-member:<account>:<group>:<member>)`);
}

/** The kinds of action that fit an object type. */
export const KINDS_FOR: Record<Target['type'], RemediationKind[]> = {
  token: ['token-disable', 'token-set-expiry', 'token-delete', 'token-narrow', 'token-roll'],
  member: ['member-remove', 'invitation-remove'],
  invite: ['user-invite-reject'],
  'group-member': ['group-member-remove'],
};
