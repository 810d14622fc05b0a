import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { type RateLimitSetting, rateLimitSetting } from '../util/rate-limit-setting.js';

// The `cloudflare.credentials` list: every credential flarewatch watches the organisation
// through. CLOUDFLARE_API_TOKEN (or CLOUDFLARE_EMAIL + CLOUDFLARE_API_KEY) alone is the
// zero-configuration form of the same list: one credential named `default`.

export const CREDENTIAL_NAME = /^[a-z0-9-]+$/;
export const DEFAULT_CREDENTIAL = 'default';

const accountId = z.string().regex(/^[0-9a-f]{32}$/i, 'an account id is 32 hexadecimal characters');

export const credentialEntrySchema = z.strictObject({
  name: z.string().regex(CREDENTIAL_NAME, 'lowercase letters, digits and dashes only ([a-z0-9-]+)'),
  apiToken: z.string().min(1).optional(),
  apiTokenFile: z.string().min(1).optional(),
  email: z.string().email().optional(),
  apiKey: z.string().min(1).optional(),
  apiKeyFile: z.string().min(1).optional(),
  /** Accounts this credential walks; required where /accounts cannot list them (account-owned tokens). */
  accounts: z.array(accountId).optional(),
  /** Cloudflare's limit for this credential, when it differs from cloudflare.rateLimit. */
  rateLimit: rateLimitSetting.optional(),
  /** Remediation may send writes through this credential (and only through credentials marked so). */
  write: z.boolean().optional(),
});

export type CredentialEntry = z.infer<typeof credentialEntrySchema>;

/** One credential as the program uses it: its secret read, its limit resolved. Never logged. */
export interface CredentialConfig {
  name: string;
  apiToken?: string | undefined;
  email?: string | undefined;
  apiKey?: string | undefined;
  /** Empty: every account the credential can list. */
  accounts: string[];
  rateLimit: RateLimitSetting | undefined;
  /** Marked for writing (remediation); false for the zero-configuration credential. */
  write?: boolean | undefined;
}

interface CloudflareSection {
  apiToken?: string | undefined;
  email?: string | undefined;
  apiKey?: string | undefined;
  credentials?: CredentialEntry[] | undefined;
  rateLimit: RateLimitSetting | undefined;
}

function readSecretFile(file: string, ctx: z.RefinementCtx, path: PropertyKey[]): string | undefined {
  try {
    const value = readFileSync(file, 'utf8').trim();
    if (value) return value;
    ctx.addIssue({ code: 'custom', path, message: `${file} is empty` });
  } catch (err) {
    ctx.addIssue({ code: 'custom', path, message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
  }
  return undefined;
}

function resolveEntry(e: CredentialEntry, i: number, cf: CloudflareSection, ctx: z.RefinementCtx): CredentialConfig | undefined {
  const at = (key: string) => ['credentials', i, key];
  const issue = (key: string, message: string) => ctx.addIssue({ code: 'custom', path: at(key), message: `(${e.name}) ${message}` });
  if (e.apiToken && e.apiTokenFile) issue('apiTokenFile', 'set apiToken or apiTokenFile, not both');
  if (e.apiKey && e.apiKeyFile) issue('apiKeyFile', 'set apiKey or apiKeyFile, not both');
  const token = e.apiToken ?? (e.apiTokenFile ? readSecretFile(e.apiTokenFile, ctx, at('apiTokenFile')) : undefined);
  const key = e.apiKey ?? (e.apiKeyFile ? readSecretFile(e.apiKeyFile, ctx, at('apiKeyFile')) : undefined);
  const hasToken = Boolean(e.apiToken || e.apiTokenFile);
  const hasKey = Boolean(e.apiKey || e.apiKeyFile);
  if (hasToken && (hasKey || e.email)) issue('apiToken', 'an API token or an email with a global API key, not both');
  else if (!hasToken && !hasKey) issue('apiToken', 'needs apiToken (or apiTokenFile), or email with apiKey (or apiKeyFile)');
  else if (hasKey && !e.email) issue('email', 'a global API key needs the email it belongs to');
  if (!token && !key) return undefined;
  return {
    name: e.name,
    ...(token ? { apiToken: token } : { email: e.email, apiKey: key }),
    accounts: [...new Set((e.accounts ?? []).map((a) => a.toLowerCase()))],
    rateLimit: e.rateLimit === undefined ? cf.rateLimit : e.rateLimit,
    write: e.write === true,
  };
}

/** The credentials list, or the single `default` one from the SDK's variables. */
export function resolveCredentials(cf: CloudflareSection, ctx: z.RefinementCtx): CredentialConfig[] {
  const single = cf.apiToken || cf.apiKey || cf.email;
  if (cf.credentials?.length) {
    if (single) {
      ctx.addIssue({
        code: 'custom', path: ['credentials'],
        message: 'CLOUDFLARE_API_TOKEN / CLOUDFLARE_EMAIL / CLOUDFLARE_API_KEY and cloudflare.credentials are both set: put every credential in the list (apiTokenFile reads a secret from a file)',
      });
    }
    const seen = new Set<string>();
    cf.credentials.forEach((c, i) => {
      if (seen.has(c.name)) ctx.addIssue({ code: 'custom', path: ['credentials', i, 'name'], message: `"${c.name}" is used twice; names must be unique` });
      seen.add(c.name);
    });
    return cf.credentials.map((e, i) => resolveEntry(e, i, cf, ctx)).filter((c): c is CredentialConfig => c !== undefined);
  }
  if (cf.apiKey && !cf.email) return [];
  if (cf.apiToken) return [{ name: DEFAULT_CREDENTIAL, apiToken: cf.apiToken, accounts: [], rateLimit: cf.rateLimit }];
  if (cf.email && cf.apiKey) return [{ name: DEFAULT_CREDENTIAL, email: cf.email, apiKey: cf.apiKey, accounts: [], rateLimit: cf.rateLimit }];
  return [];
}

export const credentialSecrets = (list: CredentialConfig[]): string[] =>
  list.flatMap((c) => [c.apiToken, c.apiKey]).filter((v): v is string => typeof v === 'string');
