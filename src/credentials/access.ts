import type { ApiAccess } from '../cloudflare/client.js';
import { limitedFetch } from '../cloudflare/rate-limit.js';
import type { SharedLimiter } from '../cloudflare/redis-limiter.js';
import type { Config } from '../config.js';
import type { CredentialConfig } from '../config/credentials.js';
import { type LimiterRegistry, localLimiters, secretKey } from './limiters.js';
import type { CredentialAccess } from './types.js';

/** What Cloudflare counts this credential's requests against (section 10: per user, or per account token). */
export function limitKeyOf(c: Pick<CredentialAccess, 'config' | 'identity'>): string {
  const id = c.identity;
  if (id?.kind === 'account-token' && id.tokenId) return `account-token:${id.tokenId}`;
  if (id?.userId) return `user:${id.userId}`;
  return secretKey(c.config);
}

export interface AccessOptions {
  registry?: LimiterRegistry;
  /** Wraps each credential's raw fetch (metrics count every attempt by credential). */
  wrapFetch?: (credential: string, inner: typeof fetch) => typeof fetch;
}

/**
 * One access per configured credential. The limiter is looked up per request by the credential's
 * current key, so once its identity is known two tokens of one user share that user's budget.
 */
export function credentialAccesses(config: Config, opts: AccessOptions = {}): CredentialAccess[] {
  const cf = config.cloudflare;
  const registry = opts.registry ?? localLimiters(cf.rateLimitMargin);
  return cf.credentials.map((c: CredentialConfig) => {
    const raw = opts.wrapFetch ? opts.wrapFetch(c.name, fetch) : fetch;
    const access: CredentialAccess = {
      name: c.name, config: c, api: undefined as unknown as ApiAccess,
      async carryBudget(previousKey) {
        const from = registry.all.get(previousKey);
        const to = limiter();
        if (from && to && from !== to) await to.absorb?.(from);
      },
    };
    const limiter = () => (c.rateLimit ? registry.get(limitKeyOf(access), c.rateLimit) : undefined);
    const paced: typeof fetch = (input, init) => {
      const l = limiter();
      if (!l) return raw(input, init);
      const shared = l as Partial<SharedLimiter>;
      return (shared.fetch ? shared.fetch(raw) : limitedFetch(l, raw))(input, init);
    };
    access.api = {
      baseUrl: cf.baseUrl,
      apiToken: c.apiToken,
      email: c.email,
      apiKey: c.apiKey,
      timeoutMs: cf.timeoutMs,
      maxBodyBytes: cf.maxBodyBytes,
      maxRetries: cf.maxRetries,
      malformedRetries: cf.malformedRetries,
      fetch: paced,
      get limiter() {
        return limiter();
      },
    };
    return access;
  });
}

export function credentialNamed(list: CredentialAccess[], name: string): CredentialAccess | undefined {
  return list.find((c) => c.name === name);
}
