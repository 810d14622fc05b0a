import { iamPermissionGroup, IAM_PERMISSION_GROUPS } from '../iam/catalog.js';
import { notFound } from '../http/errors.js';
import { enumParam, one } from '../http/params.js';
import { findById, ok, paged, requireAccount, sortBy, type Handler, type HandlerContext } from './iam.js';

// User groups, their members, resource groups and the account's IAM permission groups (openapi-iam.json 11.1).

const direction = (ctx: HandlerContext) => enumParam(ctx.query, 'direction', ['asc', 'desc'] as const) ?? 'asc';
const contains = (value: string, wanted: string | undefined) => !wanted || value.toLowerCase().includes(wanted.toLowerCase());

function group(ctx: HandlerContext) {
  const account = requireAccount(ctx);
  const rec = ctx.world.access.groupRecord(account.id, ctx.params.user_group_id ?? '');
  if (!rec) throw notFound('User group');
  return { account, rec };
}

function groupMembers(ctx: HandlerContext) {
  const { account, rec } = group(ctx);
  return ctx.world.access.groupMembers(account.id, rec.group.id);
}

export const iamGroupHandlers: Record<string, Handler> = {
  'GET /accounts/:account_id/iam/user_groups': (ctx) => {
    const id = one(ctx.query, 'id'), name = one(ctx.query, 'name'), fuzzy = one(ctx.query, 'fuzzyName');
    const groups = ctx.world.access.userGroups(requireAccount(ctx).id)
      .filter((g) => (!id || g.id === id) && (!name || g.name === name) && contains(g.name, fuzzy));
    return paged(ctx, sortBy(groups, (g) => g.name, direction(ctx)), { def: 100, min: 1, max: 500 });
  },
  'GET /accounts/:account_id/iam/user_groups/:user_group_id': (ctx) => ok(group(ctx).rec.group),
  'GET /accounts/:account_id/iam/user_groups/:user_group_id/members': (ctx) => {
    const fuzzy = one(ctx.query, 'fuzzyEmail');
    const members = groupMembers(ctx).filter(({ member }) => contains(member.email, fuzzy))
      .map(({ member }) => ({ id: member.id, email: member.email, status: member.status }));
    return paged(ctx, sortBy(members, (m) => `${m.email}\u0000${m.id}`, direction(ctx)), { def: 100, min: 1, max: 500 });
  },
  'GET /accounts/:account_id/iam/user_groups/:user_group_id/members/:member_id': (ctx) => {
    const found = groupMembers(ctx).find(({ member }) => member.id === ctx.params.member_id);
    if (!found) throw notFound('User group member');
    const { member, addedAt } = found;
    return ok({ id: member.id, email: member.email, status: member.status, created_at: addedAt,
      user: { id: member.user.id, email: member.user.email, first_name: member.user.first_name, last_name: member.user.last_name } });
  },
  // One unpaged list, no result_info (the SDK reads it as SinglePage).
  'GET /accounts/:account_id/iam/resource_groups': (ctx) => {
    const id = one(ctx.query, 'id'), name = one(ctx.query, 'name');
    return ok(ctx.world.access.resourceGroups(requireAccount(ctx).id).filter((r) => (!id || r.id === id) && (!name || r.name === name)));
  },
  'GET /accounts/:account_id/iam/resource_groups/:resource_group_id': (ctx) =>
    ok(findById(ctx.world.access.resourceGroups(requireAccount(ctx).id), ctx.params.resource_group_id, 'Resource group')),
  'GET /accounts/:account_id/iam/permission_groups': (ctx) => {
    requireAccount(ctx);
    const id = one(ctx.query, 'id'), name = one(ctx.query, 'name'), label = one(ctx.query, 'label');
    const groups = IAM_PERMISSION_GROUPS.filter((g) => (!id || g.id === id) && (!name || g.name === name) && (!label || g.meta.label === label));
    return paged(ctx, [...groups]);
  },
  'GET /accounts/:account_id/iam/permission_groups/:permission_group_id': (ctx) => {
    requireAccount(ctx);
    const found = IAM_PERMISSION_GROUPS.find((g) => g.id === ctx.params.permission_group_id);
    if (!found) throw notFound('Permission group');
    return ok(iamPermissionGroup(found.name));
  },
};
