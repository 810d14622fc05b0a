import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { type InvitationRow, PENDING_INVITATIONS, INVITATION_DAY_FACTS, invitationHit, query } from './sql.js';

interface Row extends InvitationRow { enforcer: string }

export const invite2faMismatch: Rule = {
  id: 'invite-2fa-mismatch',
  title: 'Invitation to a 2FA-enforcing organisation for a user without 2FA',
  severity: 'low',
  controls: ['SOC2:CC6.1', 'ISO27001:A.8.5', 'PCI:8.4.2'],
  rationale:
    'The organisation requires two-factor authentication but the invited user has none: accepting either fails or ' +
    'prompts someone to weaken the requirement to get them in. Only reported where the data says so: user invites ' +
    '(organization_is_enforcing_twofactor, and your own user\'s 2FA) and pending members of accounts that enforce 2FA ' +
    'whose user object reports 2FA disabled.',
  remediation: 'Have the invited user enable two-factor authentication before accepting; do not relax the organisation\'s 2FA enforcement.',
  dayFacts: INVITATION_DAY_FACTS,
  async evaluate(ctx) {
    // User invites are addressed to the credential's user (users has that one row); match by email when the invite names one.
    const rows = await query<Row>(ctx, sql`
      select p.*, case when p.type = 'invite' then 'organization' else 'account' end as enforcer
      from (${PENDING_INVITATIONS}) p
      where (p.type = 'invite' and exists (
               select 1 from user_invites i join users u on u.deleted_at is null
                 and (i.invited_member_email is null or lower(u.email) = lower(i.invited_member_email))
               where i.id = p.id and i.organization_enforces_twofactor is true and u.two_factor_enabled is false))
         or (p.type = 'member' and exists (
               select 1 from account_members m join accounts a on a.id = m.account_id and a.deleted_at is null
               where m.id = p.id and a.enforce_twofactor is true and m.two_factor_enabled is false))
      order by key`);
    return rows.map((r) => invitationHit(r, ctx.now, { enforces_twofactor: true, enforced_by: r.enforcer, user_two_factor_enabled: false }));
  },
};
