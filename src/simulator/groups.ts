import type { World } from './world.js';

/**
 * A minimal store of user groups and their members, kept beside the world (not in it) so the
 * write routes can remove a member from a group. Another branch gives the world its own
 * user groups with listings; once merged, this store should give way to that one.
 */
export interface GroupMember { id: string; email: string; status: 'accepted' | 'pending' }
export interface UserGroup { id: string; accountId: string; name: string; created_on: string; modified_on: string; members: GroupMember[] }

const stores = new WeakMap<World, Map<string, UserGroup>>();

export function groupsOf(world: World): Map<string, UserGroup> {
  let store = stores.get(world);
  if (!store) stores.set(world, (store = new Map()));
  return store;
}

/** A group of `accountId` holding the given account members (by their member ids). */
export function addGroup(world: World, accountId: string, group: { id: string; name: string; memberIds: string[]; at: string }): UserGroup {
  const members = world.members(accountId);
  const g: UserGroup = {
    id: group.id, accountId, name: group.name, created_on: group.at, modified_on: group.at,
    members: group.memberIds.map((id) => {
      const m = members.find((x) => x.id === id);
      if (!m) throw new Error(`no member ${id} in account ${accountId}`);
      return { id: m.id, email: m.email, status: m.status };
    }),
  };
  groupsOf(world).set(g.id, g);
  return g;
}
