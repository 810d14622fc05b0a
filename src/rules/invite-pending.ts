import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { type InvitationRow, PENDING_INVITATIONS, INVITATION_DAY_FACTS, invitationHit, query } from './sql.js';

export const invitePending: Rule = {
  id: 'invite-pending',
  title: 'Pending invitation',
  severity: 'info',
  controls: ['SOC2:CC6.2', 'ISO27001:A.5.16', 'ISO27001:A.5.18', 'PCI:8.2.4'],
  rationale:
    'An outstanding invitation is access waiting to be granted to whoever controls the invited mailbox. Each one ' +
    'should be expected by someone; reviewing them catches invitations sent to the wrong address or never revoked.',
  remediation:
    'Confirm the invitation is intended (right address, right roles). Revoke it in Manage Account → Members if not; ' +
    'for an invitation addressed to you, accept or reject it under My Profile → Invites.',
  dayFacts: INVITATION_DAY_FACTS,
  async evaluate(ctx) {
    const rows = await query<InvitationRow>(ctx, sql`select * from (${PENDING_INVITATIONS}) p order by key`);
    return rows.map((r) => invitationHit(r, ctx.now));
  },
};
