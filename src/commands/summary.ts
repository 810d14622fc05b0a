import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';

export interface StoreSummary {
  accounts: number;
  userTokens: number;
  accountTokens: number;
  members: number;
  pendingInvites: number;
  membersWithout2fa: number;
  auditEntries: number;
}

async function count(db: Db, query: ReturnType<typeof sql>): Promise<number> {
  const res = await db.execute<{ n: string }>(query);
  return Number(res.rows[0]?.n ?? 0);
}

async function tableExists(db: Db, name: string): Promise<boolean> {
  const res = await db.execute<{ t: string | null }>(sql`select to_regclass(${name}) as t`);
  return res.rows[0]?.t != null;
}

/** What is stored now (not deleted), for the demo's and run's closing lines. */
export async function storeSummary(db: Db): Promise<StoreSummary> {
  return {
    accounts: await count(db, sql`select count(*) as n from accounts where deleted_at is null`),
    userTokens: await count(db, sql`select count(*) as n from api_tokens where deleted_at is null and owner_type = 'user'`),
    accountTokens: await count(db, sql`select count(*) as n from api_tokens where deleted_at is null and owner_type = 'account'`),
    members: await count(db, sql`select count(*) as n from account_members where deleted_at is null and status <> 'pending'`),
    pendingInvites: await count(db, sql`select (select count(*) from account_members where deleted_at is null and status = 'pending') + (select count(*) from user_invites where deleted_at is null and status = 'pending') as n`),
    membersWithout2fa: await count(db, sql`select count(*) as n from account_members where deleted_at is null and two_factor_enabled is not true`),
    auditEntries: (await tableExists(db, 'audit_logs')) ? await count(db, sql`select count(*) as n from audit_logs`) : 0,
  };
}

export function formatSummary(s: StoreSummary): string {
  return [
    `accounts            ${s.accounts}`,
    `API tokens          ${s.userTokens + s.accountTokens} (${s.userTokens} user, ${s.accountTokens} account)`,
    `members             ${s.members} (${s.membersWithout2fa} without 2FA)`,
    `pending invites     ${s.pendingInvites}`,
    `audit log entries   ${s.auditEntries}`,
  ].join('\n');
}
