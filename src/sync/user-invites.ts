import { eq } from 'drizzle-orm';
import { userInvites } from '../db/schema/index.js';
import { bool, date, rawOf, str, strings } from './fields.js';
import { snapshotJob } from './snapshot.js';
import { inviteHistory } from '../history/trackers.js';

export const userInvitesStream = (credential: string) =>
  snapshotJob(`user-invites:${credential}`, {
    path: '/user/invites',
    table: userInvites,
    conflict: [userInvites.id],
    idColumn: userInvites.id,
    history: inviteHistory,
    scope: (w) => eq(userInvites.userId, w.owner),
    toRow: (i, w) => ({
      id: i.id,
      userId: w.owner,
      organizationId: str(i.organization_id),
      organizationName: str(i.organization_name),
      organizationEnforcesTwofactor: bool(i.organization_is_enforcing_twofactor),
      invitedMemberId: str(i.invited_member_id),
      invitedMemberEmail: str(i.invited_member_email),
      invitedBy: str(i.invited_by),
      invitedOn: date(i.invited_on),
      expiresOn: date(i.expires_on),
      status: str(i.status),
      roles: strings(i.roles),
      raw: rawOf(i),
    }),
  });
