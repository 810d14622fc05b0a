import type { HandlerContext } from './iam.js';

/**
 * Every write leaves an entry in the audit logs as Cloudflare records it: v2 of the account (with the
 * token that made it, `actor.token_id`), and v1 of the account, or of the user for user-level objects.
 */
export interface WriteRecord {
  method: 'PUT' | 'DELETE' | 'PATCH';
  uri: string;
  accountId: string | undefined;
  resource: { id: string; type: string; v1Type: string; product: string; name?: string | undefined };
  v2Type: 'update' | 'delete';
  description: string;
  oldValue?: unknown;
  newValue?: unknown;
}

function actorOf(ctx: HandlerContext) {
  const c = ctx.caller;
  const userId = c.kind === 'account-token' ? undefined : c.userId;
  const user = userId ? ctx.world.userById(userId)?.user : undefined;
  const tokenId = c.kind === 'global-key' ? undefined : c.tokenId;
  const token = tokenId ? [...ctx.world.users.flatMap((u) => u.tokens), ...(c.kind === 'account-token' ? ctx.world.accountTokens(c.accountId) : [])].find((t) => t.id === tokenId) : undefined;
  return { id: user?.id ?? tokenId ?? '', email: user?.email ?? '', tokenId, tokenName: token?.name };
}

export function recordWrite(ctx: HandlerContext, w: WriteRecord): void {
  const actor = actorOf(ctx);
  const time = new Date(ctx.now).toISOString();
  const userId = ctx.caller.kind === 'account-token' ? undefined : ctx.caller.userId;
  const accountId = w.accountId ?? (userId ? ctx.world.userById(userId)?.accountIds[0] : undefined);
  if (accountId && ctx.world.account(accountId)) {
    ctx.world.auditStream('account-v2', accountId).append([{
      time,
      action: { description: w.description, result: 'success', type: w.v2Type },
      actor: { id: actor.id, email: actor.email, ip_address: '127.0.0.1', type: 'user',
        context: actor.tokenId ? 'api_token' : 'api_key', ...(actor.tokenId ? { token_id: actor.tokenId, token_name: actor.tokenName ?? '' } : {}) },
      raw: { method: w.method, status_code: 200, uri: w.uri, user_agent: 'flarewatch' },
      resource: { id: w.resource.id, product: w.resource.product, type: w.resource.type, request: {}, response: {} },
      zone: {},
    }]);
  }
  const v1Scope = w.accountId ? ['account-v1', w.accountId] as const : userId ? ['user-v1', userId] as const : undefined;
  if (!v1Scope || (v1Scope[0] === 'account-v1' && !ctx.world.account(v1Scope[1]))) return;
  ctx.world.auditStream(v1Scope[0], v1Scope[1]).append([{
    time,
    action: { type: w.resource.v1Type === 'API_Token' && w.v2Type === 'delete' ? 'delete' : w.v2Type === 'delete' ? 'remove' : 'update', result: true },
    actor: { id: actor.id, email: actor.email, ip: '127.0.0.1', type: 'user' },
    interface: 'API',
    metadata: { ...(w.resource.name ? { name: w.resource.name } : {}), ...(actor.tokenId ? { token_id: actor.tokenId } : {}) },
    newValue: w.newValue === undefined ? '' : JSON.stringify(w.newValue),
    oldValue: w.oldValue === undefined ? '' : JSON.stringify(w.oldValue),
    resource: { id: w.resource.id, type: w.resource.v1Type },
  }]);
}
