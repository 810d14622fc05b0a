// The least a round can ask: for every stream it walks, the pages its items need at the largest
// page the API serves for that listing, counted from the simulator's world (never from
// flarewatch's own counts). A listing always takes at least one request, even when empty.
import type { RoundWorld } from './round-world.js';

type World = RoundWorld['sim']['world'];

/** Items and the API's largest page, per listing a stream of that kind reads. */
type Listings = (world: World, scope: string, phase: 'first' | 'steady', userOf: (credential: string) => string) => Array<[items: number, perPage: number]>;

const userNamed = (world: World, id: string) => world.userById(id)!;
const audit = (n: number, phase: 'first' | 'steady'): Array<[number, number]> => [[phase === 'first' ? n : 1, 1000]];

// Page maxima are the simulator's (src/simulator/routes): paged() 50 unless a route says otherwise.
const KINDS: Record<string, Listings> = {
  accounts: (w, c, _p, u) => [[userNamed(w, u(c)).accountIds.length, 50]],
  user: () => [[1, 1]],
  'user-tokens': (w, c, _p, u) => [[userNamed(w, u(c)).tokens.length, 50]],
  'user-invites': (w, c, _p, u) => [[userNamed(w, u(c)).invites.length, 50]],
  'user-organizations': (w, c, _p, u) => [[userNamed(w, u(c)).organizations.length, 50]],
  'user-subscriptions': () => [[1, 1]],
  'billing-history': (w, c, _p, u) => [[userNamed(w, u(c)).billingHistory.length, 50]],
  'ip-access-rules': (w, c, _p, u) => [[userNamed(w, u(c)).ipAccessRules.length, 1000]],
  'user-audit': (w, c, p, u) => audit(w.auditStream('user-v1', u(c)).count(), p),
  organizations: () => [[1, 50]],
  'permission-groups': () => [[1, 1]],
  'account-tokens': (w, a) => [[w.accountTokens(a).length, 50]],
  'account-permission-groups': () => [[1, 1]],
  members: (w, a) => [[w.members(a).length, 50]],
  roles: (w, a) => [[w.roles(a).length, 50]],
  'account-subscriptions': () => [[1, 1]],
  'account-audit': (w, a, p) => audit(w.auditStream('account-v2', a).count(), p),
  'account-audit-v1': (w, a, p) => audit(w.auditStream('account-v1', a).count(), p),
  // The groups, then each group's members: one listing per group.
  'user-groups': (w, a) => [[w.access.userGroups(a).length, 500], ...w.access.userGroups(a).map((g) => [w.access.groupMembers(a, g.id).length, 500] as [number, number])],
  'resource-groups': (w, a) => [[w.access.resourceGroups(a).length, 50]],
  'iam-permission-groups': () => [[1, 50]],
  zones: (w, a) => [[w.zones.get(a)?.length ?? 0, 50]],
};

/** Requests the round's streams need at the least (`steady`: audit streams with nothing new take one each). */
export function minimumRequests(w: RoundWorld, streams: string[], phase: 'first' | 'steady'): number {
  const userOf = (credential: string) => w.users.get(credential)!;
  let total = 0;
  for (const s of streams) {
    const [kind, scope = ''] = s.split(':');
    const listings = KINDS[kind!];
    if (!listings) throw new Error(`round bench: no minimum known for stream kind ${kind}`);
    for (const [items, perPage] of listings(w.sim.world, scope, phase, userOf)) total += Math.max(1, Math.ceil(items / perPage));
  }
  return total;
}
