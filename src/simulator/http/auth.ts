import type { IncomingHttpHeaders } from 'node:http';
import type { CredentialStore, Principal, SimCredentials } from '../credentials.js';
import { CODES, HttpError } from './errors.js';

export type { SimCredentials };

export const DEFAULT_CREDENTIALS: SimCredentials = {
  apiToken: 'sim-token-0123456789abcdef0123456789abcdef01',
  email: 'owner@example.com',
  apiKey: 'sim-global-key-0123456789abcdef0123456789',
  deny: [],
};

const VERIFY_ROUTES = new Set(['GET /user/tokens/verify', 'GET /accounts/:account_id/tokens/verify']);

/** Returns who is calling, or throws the error Cloudflare would answer for a missing, malformed or unknown credential. */
export function authenticate(headers: IncomingHttpHeaders, store: CredentialStore, route: string): Principal {
  const authorization = headers.authorization;
  const email = headers['x-auth-email'];
  const key = headers['x-auth-key'];
  if (typeof authorization === 'string') return checkToken(authorization, store, route);
  if (typeof email === 'string' && typeof key === 'string') return checkKey(email, key, store);
  throw new HttpError(400, [{ code: CODES.missingAuth, message: 'Missing X-Auth-Key, X-Auth-Email or Authorization headers' }]);
}

function invalidHeader(code: number, message: string): HttpError {
  return new HttpError(400, [{ code: CODES.invalidHeaders, message: 'Invalid request headers', error_chain: [{ code, message }] }]);
}

export const invalidApiToken = () => new HttpError(401, [{ code: CODES.invalidApiToken, message: 'Invalid API Token' }]);

function checkToken(authorization: string, store: CredentialStore, route: string): Principal {
  const match = /^Bearer ([A-Za-z0-9_-]{40,})$/.exec(authorization.trim());
  if (!match) throw invalidHeader(CODES.badAuthorization, 'Invalid format for Authorization header');
  const principal = store.byToken(match[1]!);
  if (!principal) {
    // The verify endpoints answer 401 "Invalid API Token"; other endpoints 403 "Invalid access token".
    if (VERIFY_ROUTES.has(route)) throw invalidApiToken();
    throw new HttpError(403, [{ code: CODES.invalidToken, message: 'Invalid access token' }]);
  }
  return principal;
}

function checkKey(email: string, key: string, store: CredentialStore): Principal {
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw invalidHeader(CODES.badEmail, 'Invalid format for X-Auth-Email header');
  if (!/^[A-Za-z0-9_-]{20,}$/.test(key)) throw invalidHeader(CODES.badKey, 'Invalid format for X-Auth-Key header');
  const principal = store.byKey(email, key);
  if (!principal) throw new HttpError(403, [{ code: CODES.unknownKey, message: 'Unknown X-Auth-Key or X-Auth-Email' }]);
  return principal;
}
