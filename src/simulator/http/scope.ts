import type { Principal } from '../credentials.js';
import type { World } from '../world.js';
import { invalidApiToken } from './auth.js';
import { CODES, HttpError } from './errors.js';

/**
 * What a recognised credential may call, as Cloudflare answers it (section 10 of the API notes):
 * - an account-owned token cannot call /user or /user/* (403, 9109) and fails /user/tokens/verify (401, 1000);
 *   it reaches only its own account (another one: 403, 10000) and verifies at /accounts/{its id}/tokens/verify;
 * - a user token reaches the accounts its user is a member of (others: 403, 10000) and is no account token
 *   (/accounts/{id}/tokens/verify: 401); a global key has no token at all (both verify endpoints: 401);
 * - a removed account answers 404, 7003 on every route under it, whoever asks;
 * - `deny` lists the routes the credential's permissions do not cover (403, 10000).
 */
export function authorize(p: Principal, route: string, path: string, params: Record<string, string>, world: World): void {
  const userRoute = / \/user(\/|$)/.test(route);
  if (p.kind === 'account-token' && userRoute) {
    if (route === 'GET /user/tokens/verify') throw invalidApiToken();
    throw new HttpError(403, [{ code: CODES.invalidToken, message: 'Unauthorized to access requested resource' }]);
  }
  if (p.kind === 'global-key' && route === 'GET /user/tokens/verify') throw invalidApiToken();
  const accountId = params.account_id;
  if (accountId !== undefined) {
    if (world.isRemovedAccount(accountId)) {
      const message = `Could not route to ${path}, perhaps your object identifier is invalid?`;
      throw new HttpError(404, [{ code: CODES.badIdentifier, message }], {}, true);
    }
    const ownAccountToken = p.kind === 'account-token' && p.accountId === accountId;
    if (route === 'GET /accounts/:account_id/tokens/verify' && !ownAccountToken) throw invalidApiToken();
    if (p.kind === 'account-token' ? !ownAccountToken : !memberOrUnknown(p.userId, accountId, world)) throw forbidden();
  }
  if (p.deny.includes(route)) throw forbidden();
}

// An id that never was an account keeps today's answer (the handler's 404); a real account needs membership.
function memberOrUnknown(userId: string, accountId: string, world: World): boolean {
  if (!world.account(accountId)) return true;
  return world.userById(userId)?.accountIds.includes(accountId) ?? false;
}

const forbidden = () => new HttpError(403, [{ code: CODES.forbidden, message: 'Authentication error' }]);
