import { and, eq, inArray, isNotNull, isNull } from 'drizzle-orm';
import type { Tx } from '../db/client.js';
import { organizationAccounts, organizationMembers, organizations } from '../db/schema/index.js';
import { organizationAccountHistory, organizationMemberHistory } from '../history/trackers.js';
import { mergeHeld, settleDeletions, type Settled } from './deletions.js';
import { bool, obj, rawOf, str } from './fields.js';
import { endVersions } from './history.js';
import { type ListingResult, listingAt, recordingFailure, writeListing } from './listings.js';
import type { StreamJob, Walk } from './walk.js';
import type { SnapshotSpec } from './snapshot.js';
import { tokenConfirmation, walkTokenJoined } from './token-walk.js';

// The organizations a credential reaches (public beta), each with its members (implicit Super
// Administrator on its accounts) and its accounts. One listing in access_listings: `organizations`,
// scoped to the credential. Members and accounts are deleted only after their organization's listing
// of them was walked complete.

const SEP = ':';
const after = (id: string) => id.slice(id.indexOf(SEP) + 1);
const keyed = (orgId: string) => (item: Record<string, unknown>) => (typeof item.id === 'string' ? { ...item, id: `${orgId}${SEP}${item.id}` } : item);

const orgsSpec = (credential: string): SnapshotSpec => ({
  path: '/organizations',
  table: organizations,
  conflict: [organizations.id],
  idColumn: organizations.id,
  scope: () => eq(organizations.credential, credential),
  detailPath: (id) => `/organizations/${id}`,
  toRow: (o) => ({ id: o.id, name: str(o.name), credential, raw: rawOf(o) }),
});

const membersSpec = (orgId: string): SnapshotSpec => ({
  path: `/organizations/${orgId}/members`,
  table: organizationMembers,
  conflict: [organizationMembers.id],
  idColumn: organizationMembers.id,
  history: organizationMemberHistory,
  scope: () => eq(organizationMembers.organizationId, orgId),
  detailPath: (id) => `/organizations/${orgId}/members/${after(id)}`,
  mapItem: keyed(orgId),
  toRow: (m) => {
    const user = obj(m.user);
    return { id: m.id, organizationId: orgId, memberId: after(m.id), userId: str(user.id), email: str(user.email), status: str(m.status),
      twoFactorEnabled: bool(user.two_factor_authentication_enabled), raw: rawOf({ ...m, id: after(m.id) }) };
  },
});

// No detail endpoint for an organization's account: a second walk proves a deletion.
const accountsSpec = (orgId: string): SnapshotSpec => ({
  path: `/organizations/${orgId}/accounts`,
  table: organizationAccounts,
  conflict: [organizationAccounts.id],
  idColumn: organizationAccounts.id,
  history: organizationAccountHistory,
  scope: () => eq(organizationAccounts.organizationId, orgId),
  mapItem: keyed(orgId),
  toRow: (a) => ({ id: a.id, organizationId: orgId, accountId: after(a.id), accountName: str(a.name), raw: rawOf({ ...a, id: after(a.id) }) }),
});

/** An organization confirmed gone takes its members and account links along (its listings answer 404 from then on). */
async function dropChildrenOfDeletedOrgs(tx: Tx, w: Walk, credential: string): Promise<void> {
  const gone = tx.select({ id: organizations.id }).from(organizations).where(and(eq(organizations.credential, credential), isNotNull(organizations.deletedAt)));
  for (const [table, tracker] of [[organizationMembers, organizationMemberHistory], [organizationAccounts, organizationAccountHistory]] as const) {
    const rows = await tx.update(table).set({ deletedAt: w.now(), updatedAt: w.now(), deletedReason: 'its organization was deleted' })
      .where(and(isNull(table.deletedAt), inArray(table.organizationId, gone))).returning({ id: table.id });
    if (rows.length) await endVersions(tx, tracker, rows.map((r) => r.id));
    w.counts.rowsMarkedDeleted += rows.length;
  }
}

/** Walk one listing and settle its deletions; undefined (and why) when its pages never joined up. */
async function walkAndSettle(w: Walk, spec: SnapshotSpec): Promise<Settled | string> {
  const walked = await walkTokenJoined(w, spec);
  if (!walked.joined) return `${spec.path as string}: ${walked.why ?? 'pages did not join up'}`;
  return settleDeletions(w, spec, walked.seen, tokenConfirmation(w, spec, walked.pages));
}

async function walkOrganizations(w: Walk, credential: string): Promise<void> {
  const settled: Settled[] = [];
  const unjoined: string[] = [];
  const keep = (r: Settled | string) => (typeof r === 'string' ? unjoined.push(r) : settled.push(r));
  const orgs = await walkTokenJoined(w, orgsSpec(credential));
  if (orgs.joined) settled.push(await settleDeletions(w, orgsSpec(credential), orgs.seen, tokenConfirmation(w, orgsSpec(credential), orgs.pages)));
  else unjoined.push(`/organizations: ${orgs.why ?? 'pages did not join up'}`);
  for (const orgId of orgs.seen) {
    keep(await walkAndSettle(w, membersSpec(orgId)));
    keep(await walkAndSettle(w, accountsSpec(orgId)));
  }
  const result: ListingResult = unjoined.length ? { state: 'failed', reason: `pages did not join up: ${unjoined.join('; ')}` } : { state: 'complete' };
  await w.complete(async (tx) => {
    for (const s of settled) await s.write(tx);
    await dropChildrenOfDeletedOrgs(tx, w, credential);
    await writeListing(tx, listingAt(w), 'organizations', result);
  }, { lastCompleteAt: w.now().toISOString() }, mergeHeld(settled));
}

/** A 403 (a credential without User Details Read) is `forbidden`, never "no organizations"; account-owned tokens never walk it (plan.ts). */
export const organizationsStream = (credential: string): StreamJob => ({
  stream: `organizations:${credential}`,
  walk: (w) => recordingFailure(w, ['organizations'], () => walkOrganizations(w, credential), { forbiddenCompletes: true }),
});
