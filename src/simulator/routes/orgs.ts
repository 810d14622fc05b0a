import { CODES, HttpError, badParam, notFound } from '../http/errors.js';
import { intParam, one } from '../http/params.js';
import type { OrgRecord } from '../iam/access-world.js';
import { ok, type Handler, type HandlerContext } from './iam.js';

// Organizations (public beta): token paging (page_token, page_size 0–1000 "Defaults to 10") with
// result_info { next_page_token, total_size }; no next_page_token on the last page.

/** Organizations the caller reaches: a user those it is an active member of; an account token (if the world allows) its account's. */
function visibleOrgs(ctx: HandlerContext): OrgRecord[] {
  const c = ctx.caller;
  const access = ctx.world.access;
  if (c.kind === 'account-token') {
    // Undocumented whether account-owned tokens may call it: the world decides, 403 by default.
    if (!access.orgsForAccountTokens) throw new HttpError(403, [{ code: CODES.invalidToken, message: 'Unauthorized to access requested resource' }]);
    return access.orgs.filter((o) => o.accountIds.includes(c.accountId));
  }
  const user = ctx.world.userById(c.userId)?.user;
  return access.orgs.filter((o) => o.members.some((m) => m.status === 'active' && (m.user.id === user?.id || m.user.email === user?.email)));
}

function org(ctx: HandlerContext): OrgRecord {
  const found = visibleOrgs(ctx).find((o) => o.org.id === ctx.params.organization_id);
  if (!found) throw notFound('Organization');
  return found;
}

/** One page of `items` from an opaque page token (an offset, base64url) and page_size. */
export function tokenPaged<T>(ctx: HandlerContext, items: T[]) {
  const size = intParam(ctx.query, 'page_size', 10, 0, 1000) || 10;
  const token = one(ctx.query, 'page_token');
  let offset = 0;
  if (token) {
    const decoded = /^o(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
    if (!decoded) throw badParam('page_token is not a token this API issued');
    offset = Number(decoded[1]);
  }
  const result = items.slice(offset, offset + size);
  const next = offset + size < items.length ? Buffer.from(`o${offset + size}`).toString('base64url') : undefined;
  return ok(result, { result_info: { ...(next ? { next_page_token: next } : {}), total_size: items.length } });
}

function accountObject(ctx: HandlerContext, id: string) {
  const a = ctx.world.account(id);
  if (!a) return [];
  return [{ id: a.id, name: a.name, type: a.type, created_on: a.created_on, settings: {
    abuse_contact_email: a.settings.abuse_contact_email ?? null, access_approval_expiry: null, api_access_enabled: null,
    default_nameservers: null, enforce_twofactor: a.settings.enforce_twofactor, use_account_custom_ns_by_default: null } }];
}

export const orgHandlers: Record<string, Handler> = {
  'GET /organizations': (ctx) => tokenPaged(ctx, visibleOrgs(ctx).map((o) => o.org)),
  'GET /organizations/:organization_id': (ctx) => ok(org(ctx).org),
  'GET /organizations/:organization_id/members': (ctx) => {
    const email = one(ctx.query, 'user.email');
    return tokenPaged(ctx, org(ctx).members.filter((m) => !email || m.user.email === email));
  },
  'GET /organizations/:organization_id/members/:member_id': (ctx) => {
    const found = org(ctx).members.find((m) => m.id === ctx.params.member_id);
    if (!found) throw notFound('Organization member');
    return ok(found);
  },
  'GET /organizations/:organization_id/accounts': (ctx) => tokenPaged(ctx, org(ctx).accountIds.flatMap((id) => accountObject(ctx, id))),
};
