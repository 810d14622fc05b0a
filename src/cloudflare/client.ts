import Cloudflare from 'cloudflare';
import { boundedFetch } from './bounded-fetch.js';
import type { RequestLimiter } from './rate-limit.js';

export interface ApiAccess {
  baseUrl: string;
  apiToken?: string | undefined;
  email?: string | undefined;
  apiKey?: string | undefined;
  /** One deadline for each attempt's whole response, headers and body. */
  timeoutMs: number;
  /** A response body larger than this is refused as it arrives, never buffered whole. */
  maxBodyBytes: number;
  maxRetries: number;
  malformedRetries: number;
  /** Wraps every HTTP attempt (retries included): the place for the shared rate limiter and metrics. */
  fetch?: typeof fetch | undefined;
  /** The limiter behind `fetch`, when there is one (for its wait statistics). */
  limiter?: RequestLimiter | undefined;
}

/** What one walk cost, counted at the HTTP layer so the SDK's own retries are included. */
export interface RequestTally {
  requests: number;
  byStatus: Record<string, number>;
}

export const newTally = (): RequestTally => ({ requests: 0, byStatus: {} });

/** An SDK client whose every HTTP attempt is counted into `tally`. */
export function createApiClient(access: ApiAccess, tally: RequestTally): Cloudflare {
  const inner = boundedFetch(access.fetch ?? fetch, { timeoutMs: access.timeoutMs, maxBodyBytes: access.maxBodyBytes });
  const counted: typeof fetch = async (input, init) => {
    tally.requests += 1;
    try {
      const response = await inner(input, init);
      tally.byStatus[response.status] = (tally.byStatus[response.status] ?? 0) + 1;
      return response;
    } catch (err) {
      tally.byStatus.network = (tally.byStatus.network ?? 0) + 1;
      throw err;
    }
  };
  // null (not undefined) stops the SDK from reading the same variables from the environment itself.
  return new Cloudflare({
    baseURL: access.baseUrl,
    apiToken: access.apiToken ?? null,
    apiEmail: access.apiToken ? null : (access.email ?? null),
    apiKey: access.apiToken ? null : (access.apiKey ?? null),
    maxRetries: access.maxRetries,
    timeout: access.timeoutMs,
    fetch: counted,
    logLevel: 'off',
  });
}
