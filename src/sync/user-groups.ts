import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { CloudflareRequestError } from '../cloudflare/errors.js';
import type { Tx } from '../db/client.js';
import { userGroupMembers, userGroups } from '../db/schema/index.js';
import { userGroupHistory, userGroupMemberHistory } from '../history/trackers.js';
import { mergeHeld, settleDeletions, type Settled } from './deletions.js';
import { date, rawOf, str } from './fields.js';
import { endVersions } from './history.js';
import { type ListingResult, listingAt, recordingFailure, writeListing } from './listings.js';
import type { StreamJob, Walk } from './walk.js';
import { confirmation, type SnapshotSpec, walkUntilJoined } from './snapshot.js';

// User groups, then each group's members (the member object does not say which groups it is in, so
// this is the only way from a member to its groups). A group's memberships are marked deleted only
// when that group's member listing was walked complete; a group that is gone takes its memberships along.

const groupsSpec = (accountId: string): SnapshotSpec => ({
  path: `/accounts/${accountId}/iam/user_groups`,
  perPage: 100,
  table: userGroups,
  conflict: [userGroups.id],
  idColumn: userGroups.id,
  history: userGroupHistory,
  scope: () => eq(userGroups.accountId, accountId),
  detailPath: (id) => `/accounts/${accountId}/iam/user_groups/${id}`,
  toRow: (g) => ({ id: g.id, accountId, name: str(g.name), policies: Array.isArray(g.policies) ? g.policies : [],
    createdOn: date(g.created_on), modifiedOn: date(g.modified_on), raw: rawOf(g) }),
});

const SEP = ':';
const memberOf = (membershipId: string) => membershipId.slice(membershipId.indexOf(SEP) + 1);

export const groupMembersSpec = (accountId: string, groupId: string): SnapshotSpec => ({
  path: `/accounts/${accountId}/iam/user_groups/${groupId}/members`,
  perPage: 100,
  table: userGroupMembers,
  conflict: [userGroupMembers.id],
  idColumn: userGroupMembers.id,
  history: userGroupMemberHistory,
  scope: () => eq(userGroupMembers.groupId, groupId),
  detailPath: (id) => `/accounts/${accountId}/iam/user_groups/${groupId}/members/${memberOf(id)}`,
  // One row per membership: `<group>:<member>`, so history keys it on one column.
  mapItem: (m) => (typeof m.id === 'string' ? { ...m, id: `${groupId}${SEP}${m.id}` } : m),
  toRow: (m) => {
    const memberId = memberOf(m.id);
    return { id: m.id, groupId, memberId, accountId, email: str(m.email), status: str(m.status), raw: rawOf({ ...m, id: memberId }) };
  },
});

interface MembersOutcome { settled: Settled[]; result: ListingResult }

/** Walk every group's members; a 403 stops there (the same permission covers every group) and is recorded as such. */
async function walkMembers(w: Walk, accountId: string, groupIds: string[]): Promise<MembersOutcome> {
  const settled: Settled[] = [];
  const unjoined: string[] = [];
  for (const groupId of groupIds) {
    const spec = groupMembersSpec(accountId, groupId);
    try {
      const walked = await walkUntilJoined(w, spec, false);
      if (!walked.joined) { unjoined.push(`${groupId} (${walked.why ?? 'pages did not join up'})`); continue; }
      settled.push(await settleDeletions(w, spec, walked.seen, confirmation(w, spec, walked.pages)));
    } catch (err) {
      if (!(err instanceof CloudflareRequestError && err.status === 403)) throw err;
      return { settled, result: { state: 'forbidden', reason: `HTTP 403: ${err.detail}${err.codes.length ? ` (code ${err.codes.join('/')})` : ''}` } };
    }
  }
  if (unjoined.length) return { settled, result: { state: 'failed', reason: `member listings did not join up: ${unjoined.join(', ')}` } };
  return { settled, result: { state: 'complete' } };
}

/** Memberships of groups now marked deleted go with them (their member listing answers 404 from now on). */
async function dropMembershipsOfDeletedGroups(tx: Tx, w: Walk, accountId: string): Promise<void> {
  const gone = tx.select({ id: userGroups.id }).from(userGroups).where(and(eq(userGroups.accountId, accountId), sql`${userGroups.deletedAt} is not null`));
  const rows = await tx.update(userGroupMembers)
    .set({ deletedAt: w.now(), updatedAt: w.now(), deletedReason: 'its user group was deleted' })
    .where(and(eq(userGroupMembers.accountId, accountId), isNull(userGroupMembers.deletedAt), inArray(userGroupMembers.groupId, gone)))
    .returning({ id: userGroupMembers.id });
  if (rows.length) await endVersions(tx, userGroupMemberHistory, rows.map((r) => r.id));
  w.counts.rowsMarkedDeleted += rows.length;
}

async function walkGroups(w: Walk, accountId: string): Promise<void> {
  const spec = groupsSpec(accountId);
  const groups = await walkUntilJoined(w, spec);
  const at = listingAt(w);
  if (!groups.joined) {
    const result: ListingResult = { state: 'failed', reason: `the listing's pages did not join up (${groups.why ?? 'unknown'})` };
    await w.complete(async (tx) => { await writeListing(tx, at, 'user-groups', result); await writeListing(tx, at, 'user-group-members', result); },
      { lastCompleteAt: w.now().toISOString() });
    return;
  }
  const settledGroups = await settleDeletions(w, spec, groups.seen, confirmation(w, spec, groups.pages));
  const members = await walkMembers(w, accountId, [...groups.seen]);
  const all = [settledGroups, ...members.settled];
  await w.complete(async (tx) => {
    for (const s of all) await s.write(tx);
    await dropMembershipsOfDeletedGroups(tx, w, accountId);
    await writeListing(tx, at, 'user-groups', { state: 'complete' });
    await writeListing(tx, at, 'user-group-members', members.result);
  }, { lastCompleteAt: w.now().toISOString() }, mergeHeld(all));
}

export const userGroupsStream = (accountId: string): StreamJob => ({
  stream: `user-groups:${accountId}`,
  walk: (w) => recordingFailure(w, ['user-groups', 'user-group-members'], () => walkGroups(w, accountId), { forbiddenCompletes: true }),
});
