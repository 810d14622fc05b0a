import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { type InvitationRow, PENDING_INVITATIONS, daysBefore, INVITATION_DAY_FACTS, invitationHit, numberSetting, query } from './sql.js';

export const inviteStale: Rule = {
  id: 'invite-stale',
  title: 'Invitation pending for too long',
  severity: 'medium',
  controls: ['SOC2:CC6.2', 'ISO27001:A.5.16', 'ISO27001:A.5.18', 'PCI:8.2.4', 'PCI:8.2.6'],
  rationale:
    'An invitation nobody accepted for weeks is usually forgotten, not slow: the person may have left, the address may ' +
    'have been reassigned, and the roles it grants were chosen for a need that has passed. Whoever gets into that mailbox later gets that access. ' +
    'Age comes from invited_on for invitations addressed to you; a pending account member carries no date in the API, so its age comes from ' +
    'the invite event in the audit log when it is archived, else from when flarewatch first saw it pending (pending_since_source says which).',
  remediation: 'Revoke the invitation; send a new one if the person still needs access.',
  thresholds: { days: { default: 14, description: 'days an invitation may stay pending' } },
  dayFacts: INVITATION_DAY_FACTS,
  async evaluate(ctx) {
    const days = numberSetting(ctx, 'days');
    const rows = await query<InvitationRow>(ctx, sql`
      select * from (${PENDING_INVITATIONS}) p where p.since < ${daysBefore(ctx.now, days)} order by key`);
    return rows.map((r) => invitationHit(r, ctx.now, { threshold_days: days }));
  },
};
