import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.js';

export interface StoreSummary {
  accounts: number;
  userTokens: number;
  accountTokens: number;
  /** Account memberships, pending invitations not counted. */
  members: number;
  membersWithout2fa: number;
  /** Of those without 2FA, the ones holding administrative access: member-no-2fa's open findings. */
  adminMembersWithout2fa: number;
  organizationMembers: number;
  organizationMembersWithout2fa: number;
  adminOrganizationMembersWithout2fa: number;
  /** Invitations to join an account (pending memberships). */
  pendingMemberInvites: number;
  /** Invitations to the user the credential belongs to. */
  pendingUserInvites: number;
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

/** member-no-2fa's open findings on holders of administrative access, of one resource type. */
const adminNo2fa = (type: string) => sql`select count(*) as n from findings
  where rule_id = 'member-no-2fa' and status = 'open' and resource_type = ${type} and (facts ->> 'admin')::boolean`;

/**
 * What is stored now (not deleted), for the demo's and run's closing lines. One definition
 * everywhere (review start, the review exports): a member is an account membership that is not a
 * pending invitation; pending invitations and organization members are counted apart.
 */
export async function storeSummary(db: Db): Promise<StoreSummary> {
  const live = sql`deleted_at is null`;
  return {
    accounts: await count(db, sql`select count(*) as n from accounts where ${live}`),
    userTokens: await count(db, sql`select count(*) as n from api_tokens where ${live} and owner_type = 'user'`),
    accountTokens: await count(db, sql`select count(*) as n from api_tokens where ${live} and owner_type = 'account'`),
    members: await count(db, sql`select count(*) as n from account_members where ${live} and status <> 'pending'`),
    membersWithout2fa: await count(db, sql`select count(*) as n from account_members where ${live} and status <> 'pending' and two_factor_enabled is not true`),
    adminMembersWithout2fa: await count(db, adminNo2fa('member')),
    organizationMembers: await count(db, sql`select count(*) as n from organization_members where ${live}`),
    organizationMembersWithout2fa: await count(db, sql`select count(*) as n from organization_members where ${live} and two_factor_enabled is not true`),
    adminOrganizationMembersWithout2fa: await count(db, adminNo2fa('organization_member')),
    pendingMemberInvites: await count(db, sql`select count(*) as n from account_members where ${live} and status = 'pending'`),
    pendingUserInvites: await count(db, sql`select count(*) as n from user_invites where ${live} and status = 'pending'`),
    auditEntries: (await tableExists(db, 'audit_logs')) ? await count(db, sql`select count(*) as n from audit_logs`) : 0,
  };
}

const no2fa = (without: number, admin: number) => `${without}${without ? `, ${admin} of them with administrative access (member-no-2fa)` : ''}`;

export function formatSummary(s: StoreSummary): string {
  return [
    `accounts              ${s.accounts}`,
    `API tokens            ${s.userTokens + s.accountTokens} (${s.userTokens} user, ${s.accountTokens} account)`,
    `members               ${s.members} accepted (${s.pendingMemberInvites} pending invitations not counted)`,
    `  without 2FA         ${no2fa(s.membersWithout2fa, s.adminMembersWithout2fa)}`,
    `organization members  ${s.organizationMembers}`,
    `  without 2FA         ${no2fa(s.organizationMembersWithout2fa, s.adminOrganizationMembersWithout2fa)}`,
    `pending invitations   ${s.pendingMemberInvites + s.pendingUserInvites} (${s.pendingMemberInvites} to join an account, ${s.pendingUserInvites} to this user)`,
    `audit log entries     ${s.auditEntries}`,
  ].join('\n');
}
