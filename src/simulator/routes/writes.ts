import { PERMISSION_GROUPS } from '../catalog.js';
import { CODES, HttpError, notFound } from '../http/errors.js';
import { hexId, isoSec, rngFor } from '../prng.js';
import type { Token, TokenPolicy } from '../tokens.js';
import { me, ok, type Handler, type HandlerContext } from './iam.js';
import { recordWrite } from './write-audit.js';

/**
 * The write endpoints flarewatch's remediation sends, with the semantics section 11 of the API notes
 * documents: a token PUT needs `name` and `policies` and replaces the token (omitted optional fields
 * are cleared, never kept), DELETE then GET is 404, a roll answers a new secret and kills the old one.
 */

const invalid = (message: string) => new HttpError(400, [{ code: CODES.badParam, message }]);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function policyOf(p: unknown, i: number, ctx: HandlerContext): TokenPolicy {
  if (!isObj(p)) throw invalid(`policies[${i}] must be an object`);
  if (p.effect !== 'allow' && p.effect !== 'deny') throw invalid(`policies[${i}].effect must be allow or deny`);
  if (!Array.isArray(p.permission_groups) || p.permission_groups.length === 0) throw invalid(`policies[${i}].permission_groups must be a non-empty array`);
  if (!isObj(p.resources) || Object.keys(p.resources).length === 0) throw invalid(`policies[${i}].resources must be a non-empty object`);
  const groups = p.permission_groups.map((g, j) => {
    const id = isObj(g) ? g.id : undefined;
    const known = PERMISSION_GROUPS.find((x) => x.id === id);
    if (!known) throw invalid(`policies[${i}].permission_groups[${j}].id is not a permission group`);
    return { id: known.id, name: known.name };
  });
  const id = typeof p.id === 'string' && p.id ? p.id : hexId(rngFor(ctx.now, 'policy', i, JSON.stringify(p)));
  return { id, effect: p.effect, permission_groups: groups, resources: p.resources as TokenPolicy['resources'] };
}

/** iam_token_body: `name*`, `policies*`, optional status, condition, expires_on, not_before. */
function tokenBody(ctx: HandlerContext): Pick<Token, 'name' | 'policies' | 'status'> & Partial<Token> {
  const b = ctx.body;
  if (!isObj(b)) throw invalid('request body must be a JSON object');
  if (typeof b.name !== 'string' || !b.name.trim()) throw invalid('name is required');
  if (!Array.isArray(b.policies)) throw invalid('policies is required');
  if (b.status !== undefined && b.status !== 'active' && b.status !== 'disabled') throw invalid('status must be active or disabled');
  for (const k of ['expires_on', 'not_before'] as const) {
    if (b[k] !== undefined && b[k] !== null && (typeof b[k] !== 'string' || !DATE.test(b[k]))) throw invalid(`${k} must be an RFC 3339 date-time`);
  }
  if (b.condition !== undefined && b.condition !== null && !isObj(b.condition)) throw invalid('condition must be an object');
  return {
    name: b.name, status: (b.status as Token['status'] | undefined) ?? 'active', policies: b.policies.map((p, i) => policyOf(p, i, ctx)),
    ...(typeof b.expires_on === 'string' ? { expires_on: b.expires_on } : {}),
    ...(typeof b.not_before === 'string' ? { not_before: b.not_before } : {}),
    ...(isObj(b.condition) ? { condition: b.condition as Token['condition'] } : {}),
  };
}

interface Located { list: Token[]; index: number; accountId: string | undefined; owner: { kind: 'user-token' | 'account-token'; ownerId: string } }

function locate(ctx: HandlerContext): Located {
  const accountId = ctx.params.account_id;
  const list = accountId === undefined ? me(ctx).tokens : ctx.world.accountTokens(accountId);
  if (accountId !== undefined && !ctx.world.account(accountId)) throw notFound('Account');
  const index = list.findIndex((t) => t.id === ctx.params.token_id);
  if (index < 0) throw notFound('Token');
  const owner = accountId === undefined ? { kind: 'user-token' as const, ownerId: me(ctx).user.id } : { kind: 'account-token' as const, ownerId: accountId };
  return { list, index, accountId, owner };
}

const uriOf = (l: Located, id: string, tail = '') => `/client/v4${l.accountId ? `/accounts/${l.accountId}` : '/user'}/tokens/${id}${tail}`;
const tokenResource = (t: Token) => ({ id: t.id, type: 'api_token', v1Type: 'API_Token', product: 'API Tokens', name: t.name });

const putToken: Handler = (ctx) => {
  const l = locate(ctx);
  const before = l.list[l.index]!;
  const body = tokenBody(ctx);
  // Server-kept fields survive; everything the body describes is replaced (absent optional fields cleared).
  const { id, issued_on, last_used_on, creator_email_at_creation, provisioner_type, provisioner_id } = before;
  const after = Object.fromEntries(Object.entries({
    id, name: body.name, status: body.status, issued_on, modified_on: isoSec(ctx.now), last_used_on, not_before: body.not_before,
    expires_on: body.expires_on, policies: body.policies, condition: body.condition, creator_email_at_creation, provisioner_type, provisioner_id,
  }).filter(([, v]) => v !== undefined)) as unknown as Token;
  l.list[l.index] = after;
  recordWrite(ctx, { method: 'PUT', uri: uriOf(l, id), accountId: l.accountId, resource: tokenResource(after), v2Type: 'update',
    description: 'API token updated', oldValue: { ...before }, newValue: { ...after } });
  return ok(after);
};

const deleteToken: Handler = (ctx) => {
  const l = locate(ctx);
  const [gone] = l.list.splice(l.index, 1);
  recordWrite(ctx, { method: 'DELETE', uri: uriOf(l, gone!.id), accountId: l.accountId, resource: tokenResource(gone!), v2Type: 'delete', description: 'API token deleted', oldValue: { ...gone } });
  return ok({ id: gone!.id });
};

const rollToken: Handler = (ctx) => {
  const l = locate(ctx);
  if (!isObj(ctx.body)) throw invalid('request body must be a JSON object ({} is enough)');
  const token = l.list[l.index]!;
  if (!ctx.store) throw new Error('roll needs the credential store');
  const value = ctx.store.roll(token.id, l.owner);
  l.list[l.index] = { ...token, modified_on: isoSec(ctx.now) };
  recordWrite(ctx, { method: 'PUT', uri: uriOf(l, token.id, '/value'), accountId: l.accountId, resource: tokenResource(token), v2Type: 'update', description: 'API token rolled' });
  return ok(value);
};

const deleteMember: Handler = (ctx) => {
  const accountId = ctx.params.account_id!;
  if (!ctx.world.account(accountId)) throw notFound('Account');
  const list = ctx.world.members(accountId);
  const index = list.findIndex((m) => m.id === ctx.params.member_id);
  if (index < 0) throw notFound('Member');
  const [gone] = list.splice(index, 1);
  recordWrite(ctx, { method: 'DELETE', uri: `/client/v4/accounts/${accountId}/members/${gone!.id}`, accountId,
    resource: { id: gone!.id, type: 'account_member', v1Type: 'member', product: 'Members', name: gone!.email }, v2Type: 'delete',
    description: gone!.status === 'pending' ? 'Invitation cancelled' : 'Member removed from account', oldValue: { email: gone!.email, status: gone!.status } });
  return ok({ id: gone!.id });
};

const patchInvite: Handler = (ctx) => {
  const b = ctx.body;
  if (!isObj(b) || (b.status !== 'accepted' && b.status !== 'rejected')) throw invalid('status is required: accepted or rejected');
  const invite = me(ctx).invites.find((i) => i.id === ctx.params.invite_id);
  if (!invite) throw notFound('Invite');
  if (invite.status !== 'pending') throw invalid(`the invitation is ${String(invite.status)}, not pending`);
  const before = invite.status;
  invite.status = b.status;
  recordWrite(ctx, { method: 'PATCH', uri: `/client/v4/user/invites/${String(invite.id)}`, accountId: undefined,
    resource: { id: String(invite.id), type: 'invite', v1Type: 'invite', product: 'Members' }, v2Type: 'update',
    description: `Invitation ${b.status}`, oldValue: { status: before }, newValue: { status: b.status } });
  return ok(invite);
};

const deleteGroupMember: Handler = (ctx) => {
  const accountId = ctx.params.account_id!;
  if (!ctx.world.account(accountId)) throw notFound('Account');
  const rec = ctx.world.access.groupRecord(accountId, ctx.params.user_group_id ?? '');
  if (!rec) throw notFound('User group');
  const member = ctx.world.members(accountId).find((m) => m.id === ctx.params.member_id);
  if (!member || !rec.members.some((m) => m.memberId === member.id)) throw notFound('User group member');
  ctx.world.access.removeGroupMember(accountId, rec.group.id, member.id);
  recordWrite(ctx, { method: 'DELETE', uri: `/client/v4/accounts/${accountId}/iam/user_groups/${rec.group.id}/members/${member.id}`, accountId,
    resource: { id: rec.group.id, type: 'user_group', v1Type: 'user_group', product: 'Members', name: rec.group.name }, v2Type: 'update',
    description: 'Member removed from user group', oldValue: { member: member.id } });
  return ok({ id: member.id, email: member.email, status: member.status });
};

export const writeHandlers: Record<string, Handler> = {
  'PUT /user/tokens/:token_id': putToken,
  'DELETE /user/tokens/:token_id': deleteToken,
  'PUT /user/tokens/:token_id/value': rollToken,
  'PUT /accounts/:account_id/tokens/:token_id': putToken,
  'DELETE /accounts/:account_id/tokens/:token_id': deleteToken,
  'PUT /accounts/:account_id/tokens/:token_id/value': rollToken,
  'DELETE /accounts/:account_id/members/:member_id': deleteMember,
  'PATCH /user/invites/:invite_id': patchInvite,
  'DELETE /accounts/:account_id/iam/user_groups/:user_group_id/members/:member_id': deleteGroupMember,
};
