import type { IncomingHttpHeaders } from 'node:http';
import { CODES, HttpError } from './errors.js';

export interface SimCredentials { apiToken: string; email: string; apiKey: string; deny: string[] }

export const DEFAULT_CREDENTIALS: SimCredentials = {
  apiToken: 'sim-token-0123456789abcdef0123456789abcdef01',
  email: 'owner@example.com',
  apiKey: 'sim-global-key-0123456789abcdef0123456789',
  deny: [],
};

/** Returns the rate-limit key of the caller, or throws the error Cloudflare would answer. */
export function authenticate(headers: IncomingHttpHeaders, creds: SimCredentials, route: string, tokenUsable: () => boolean): string {
  const authorization = headers.authorization;
  const email = headers['x-auth-email'];
  const key = headers['x-auth-key'];
  let principal: string;
  if (typeof authorization === 'string') principal = checkToken(authorization, creds, route, tokenUsable);
  else if (typeof email === 'string' && typeof key === 'string') principal = checkKey(email, key, creds);
  else throw new HttpError(400, [{ code: CODES.missingAuth, message: 'Missing X-Auth-Key, X-Auth-Email or Authorization headers' }]);
  // A route pattern in `deny` is one this credential's permissions do not cover.
  if (creds.deny.includes(route)) throw new HttpError(403, [{ code: CODES.forbidden, message: 'Authentication error' }]);
  return principal;
}

function invalidHeader(code: number, message: string): HttpError {
  return new HttpError(400, [{ code: CODES.invalidHeaders, message: 'Invalid request headers', error_chain: [{ code, message }] }]);
}

function checkToken(authorization: string, creds: SimCredentials, route: string, tokenUsable: () => boolean): string {
  const match = /^Bearer ([A-Za-z0-9_-]{40,})$/.exec(authorization.trim());
  if (!match) throw invalidHeader(CODES.badAuthorization, 'Invalid format for Authorization header');
  if (match[1] !== creds.apiToken || !tokenUsable()) {
    // verify answers 401 "Invalid API Token"; other endpoints 403 "Invalid access token".
    if (route === 'GET /user/tokens/verify') throw new HttpError(401, [{ code: CODES.invalidApiToken, message: 'Invalid API Token' }]);
    throw new HttpError(403, [{ code: CODES.invalidToken, message: 'Invalid access token' }]);
  }
  return `token:${match[1]}`;
}

function checkKey(email: string, key: string, creds: SimCredentials): string {
  if (!/^[^@\s]+@[^@\s]+$/.test(email)) throw invalidHeader(CODES.badEmail, 'Invalid format for X-Auth-Email header');
  if (!/^[A-Za-z0-9_-]{20,}$/.test(key)) throw invalidHeader(CODES.badKey, 'Invalid format for X-Auth-Key header');
  if (email.toLowerCase() !== creds.email.toLowerCase() || key !== creds.apiKey) {
    throw new HttpError(403, [{ code: CODES.unknownKey, message: 'Unknown X-Auth-Key or X-Auth-Email' }]);
  }
  return `key:${email.toLowerCase()}`;
}
