import type { Principal } from '../credentials.js';
import type { World } from '../world.js';

/** What a 'shift-listing' fault changed in the world, so a test can name it. */
export interface Shifted { route: string; removedId: string; addedId?: string }

interface Change { remove(id: string): unknown; add(): string }

/** The inventory listings that can shift, and how an item of each is removed from / added to the world. */
function changes(world: World, caller: Principal, params: Record<string, string>): Record<string, Change> {
  const accountId = params.account_id ?? '';
  const groupId = params.user_group_id ?? '';
  const userIndex = caller.kind === 'account-token' ? -1 : world.users.findIndex((u) => u.user.id === caller.userId);
  return {
    'GET /accounts/:account_id/members': { remove: (id) => world.removeMember(accountId, id), add: () => world.addMember(accountId).id },
    'GET /accounts/:account_id/tokens': { remove: (id) => world.removeToken(id), add: () => world.addAccountToken(accountId).id },
    'GET /user/tokens': { remove: (id) => world.removeToken(id), add: () => world.addUserToken({}, userIndex).id },
    'GET /accounts': { remove: (id) => world.removeAccount(id), add: () => world.addAccount().id },
    'GET /accounts/:account_id/roles': { remove: (id) => world.removeRole(accountId, id), add: () => world.addRole(accountId).id },
    // A member leaves the group; `replace` puts another account member not yet in it.
    'GET /accounts/:account_id/iam/user_groups/:user_group_id/members': {
      remove: (id) => world.access.removeGroupMember(accountId, groupId, id),
      add: () => {
        const inGroup = new Set(world.access.groupMembers(accountId, groupId).map((m) => m.member.id));
        const next = world.members(accountId).find((m) => !inGroup.has(m.id)) ?? world.addMember(accountId);
        world.access.addGroupMember(accountId, groupId, next.id);
        return next.id;
      },
    },
    'GET /accounts/:account_id/iam/user_groups': {
      remove: (id) => world.access.removeUserGroup(accountId, id),
      add: () => world.access.addUserGroup(accountId, { name: `Shifted group ${world.access.userGroups(accountId).length}` }).id,
    },
    // A listing with no detail endpoint: what proves a deletion there is a second complete walk.
    'GET /user/billing/history': { remove: (id) => world.removeBillingItem(id, userIndex), add: () => world.addBillingItem(userIndex).id },
  };
}

/**
 * After a page was built, its first item leaves the world for good (so every later item moves one place
 * earlier on the next request, and its detail endpoint answers 404); with `replace`, a new item of the same
 * kind is appended so total_count does not change. What the caller's credential stands on (its own token, an
 * account token's account) is never the one removed, since that would end the walk with a 403 instead of
 * shifting it: the next item of the page goes instead.
 */
export function shiftListing(world: World, route: string, params: Record<string, string>, caller: Principal,
  result: unknown, replace: boolean): Shifted | undefined {
  const change = changes(world, caller, params)[route];
  if (!change || !Array.isArray(result)) return undefined;
  const own = new Set(['tokenId' in caller ? caller.tokenId : '', caller.kind === 'account-token' ? caller.accountId : '']);
  const victim = (result as Array<{ id?: unknown }>).find((item) => typeof item.id === 'string' && !own.has(item.id));
  if (!victim) return undefined;
  const removedId = victim.id as string;
  change.remove(removedId);
  return replace ? { route, removedId, addedId: change.add() } : { route, removedId };
}
