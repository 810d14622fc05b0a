import type { ServerResponse } from 'node:http';

/**
 * Error codes. Observed on the real API (third-party bug reports quoting Cloudflare bodies):
 *   6003 + error_chain 6111/6102/6103  malformed Authorization / X-Auth-Email / X-Auth-Key (HTTP 400)
 *   9106  missing credentials (HTTP 400);  9103  unknown X-Auth-Key or X-Auth-Email (HTTP 403)
 *   9109  "Invalid access token" (HTTP 403) for an unknown/expired token on ordinary endpoints, and
 *         "Unauthorized to access requested resource" (HTTP 403) for an account-owned token on /user (Prowler)
 *   1000  "Invalid API Token" (HTTP 401) on /user/tokens/verify
 *   10000 "Authentication error" (HTTP 403) when the credential lacks the permission
 *   971   "Please wait and consider throttling your request speed" (HTTP 429, wrangler issue #10025)
 *   7000  "No route for that URI", 7003 "Could not route to ..., perhaps your object identifier is invalid?"
 * Chosen here (no authoritative source found): 1001 invalid query parameter (400), 1003 object not found (404).
 */
export const CODES = {
  missingAuth: 9106, invalidHeaders: 6003, badAuthorization: 6111, badEmail: 6102, badKey: 6103,
  unknownKey: 9103, invalidToken: 9109, invalidApiToken: 1000, forbidden: 10000, rateLimited: 971,
  noRoute: 7000, badIdentifier: 7003, badParam: 1001, notFound: 1003,
} as const;

export interface ApiError { code: number; message: string; error_chain?: Array<{ code: number; message: string }> }

/** Which envelope an error uses: IAM (`result: null`), v1 audit (no result: the spec's anyOf rejects null), v2 (no codes). */
export type ErrorStyle = 'iam' | 'audit-v1' | 'audit-v2' | 'organizations';

export function errorBody(style: ErrorStyle, errors: ApiError[]): string {
  if (style === 'audit-v2') return JSON.stringify({ success: false, errors: errors.map((e) => ({ message: e.message })) });
  // Organizations' V4ErrorResponse types `result` as an object: no `result: null` either.
  if (style === 'audit-v1' || style === 'organizations') return JSON.stringify({ success: false, errors, messages: [] });
  return JSON.stringify({ success: false, errors, messages: [], result: null });
}

/**
 * Routing errors (7003) come from Cloudflare's edge before any service, so they keep their code: the IAM
 * envelope, without `result: null` on audit routes (the v1 audit definitions reject it; v2's accept it too).
 */
export const edgeStyle = (route: ErrorStyle): ErrorStyle => (route === 'iam' ? 'iam' : 'audit-v1');

export class HttpError extends Error {
  /** `fromEdge`: a routing error, answered in the v4 shape with its code whatever the route (see edgeStyle). */
  constructor(readonly status: number, readonly errors: ApiError[], readonly headers: Record<string, string> = {}, readonly fromEdge = false) {
    super(errors.map((e) => e.message).join('; '));
  }
}

export const badParam = (message: string) => new HttpError(400, [{ code: CODES.badParam, message }]);
export const notFound = (what: string) => new HttpError(404, [{ code: CODES.notFound, message: `${what} not found` }]);

export function sendJson(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}
