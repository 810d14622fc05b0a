import { CODES, HttpError } from './errors.js';

export interface RateLimit { requests: number; windowMs: number; blockMs?: number }
export const DEFAULT_RATE_LIMIT: RateLimit = { requests: 1200, windowMs: 300_000 };

interface Bucket { windowStart: number; count: number; blockedUntil: number }

/**
 * Fixed window per credential, like Cloudflare's 1200 / 5 min. Past the limit the credential is blocked
 * for blockMs (Cloudflare blocks "for the next five minutes"). Returns the Ratelimit headers to send.
 */
export class RateLimiter {
  private buckets = new Map<string, Bucket>();
  constructor(private limit: RateLimit | false, private readonly now: () => number) {}

  set(limit: RateLimit | false): void { this.limit = limit; this.buckets.clear(); }

  check(principal: string): Record<string, string> {
    const limit = this.limit;
    if (!limit) return {};
    const now = this.now();
    let b = this.buckets.get(principal);
    if (!b || now - b.windowStart >= limit.windowMs) {
      b = { windowStart: now, count: 0, blockedUntil: b?.blockedUntil ?? 0 };
      this.buckets.set(principal, b);
    }
    const policy = `"default";q=${limit.requests};w=${Math.ceil(limit.windowMs / 1000)}`;
    if (now < b.blockedUntil) throw this.limited(b.blockedUntil - now, policy);
    b.count++;
    if (b.count > limit.requests) {
      b.blockedUntil = now + (limit.blockMs ?? limit.windowMs);
      throw this.limited(b.blockedUntil - now, policy);
    }
    const reset = Math.ceil((b.windowStart + limit.windowMs - now) / 1000);
    return { ratelimit: `"default";r=${limit.requests - b.count};t=${reset}`, 'ratelimit-policy': policy };
  }

  private limited(waitMs: number, policy: string): HttpError {
    const seconds = Math.max(1, Math.ceil(waitMs / 1000));
    return new HttpError(429, [{ code: CODES.rateLimited, message: 'Please wait and consider throttling your request speed' }], {
      'retry-after': String(seconds), ratelimit: `"default";r=0;t=${seconds}`, 'ratelimit-policy': policy,
    });
  }
}
