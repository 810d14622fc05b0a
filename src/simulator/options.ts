import { z } from 'zod';
import { FAULT_KINDS } from './http/faults.js';

const int = (min = 0) => z.coerce.number().int().min(min);
const routeKeys = z.array(z.string().min(1));

const faultRule = z.object({
  route: z.string().min(1), kind: z.enum(FAULT_KINDS),
  probability: z.number().min(0).max(1).optional(), count: int().optional(), skip: int().optional(),
  status: z.number().int().min(400).max(599).optional(), retryAfter: z.number().min(0).optional(),
  delayMs: z.number().min(0).optional(), match: z.record(z.string(), z.string()).optional(),
  code: z.number().int().min(1000).optional(), message: z.string().min(1).optional(), replace: z.boolean().optional(),
  bytes: int(1).optional(), entries: int(0).optional(),
});

const dateTime = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'must be an RFC 3339 date-time');

/**
 * A credential to issue (`sim.issueCredential`, `extraCredentials`). `user` is an index into world.users;
 * `account` an account id, or an index into world.accounts (the CLI cannot know generated ids in advance);
 * `deny` lists route keys the credential lacks ('GET /user'); `tokenId` names an existing token of the user
 * for the credential to stand for (otherwise a new 'flarewatch read-only' token is added, with that id if given);
 * `provisioner` makes an account token a provisioner: it sees only the account tokens it created.
 */
export const issueSpecSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('user-token'), user: int().optional(), prefix: z.boolean().optional(), deny: routeKeys.optional(),
    expiresOn: dateTime.optional(), tokenId: z.string().min(1).optional() }).strict(),
  z.object({ kind: z.literal('account-token'), account: z.union([z.string().min(1), z.number().int().min(0)]), prefix: z.boolean().optional(),
    deny: routeKeys.optional(), expiresOn: dateTime.optional(), provisioner: z.boolean().optional() }).strict(),
  z.object({ kind: z.literal('global-key'), user: int().optional() }).strict(),
]);

export type IssueSpec = z.infer<typeof issueSpecSchema>;

/**
 * Audit-log retention. `retentionMs`: entries older than now − retentionMs are no longer served (moves with the
 * clock). `ageOutPerRequest`: every audit listing request first drops that many of its stream's oldest entries.
 */
export const auditSettingsSchema = z.object({ retentionMs: int(1).optional(), ageOutPerRequest: int().optional() }).strict();
export type AuditSettings = z.infer<typeof auditSettingsSchema>;

/** "1200/300" = 1200 requests per 300 seconds; "off"/false disables. */
const rateLimit = z.union([
  z.literal(false),
  z.literal('off').transform(() => false as const),
  z.string().regex(/^\d+\/\d+$/).transform((s) => { const [r, w] = s.split('/').map(Number); return { requests: r!, windowMs: w! * 1000 }; }),
  z.object({ requests: int(1), windowMs: int(1), blockMs: int().optional() }),
]);

/** CLI/env form of SimulatorOptions (no clock, no credentials). Numbers may arrive as strings. */
export const simulatorOptionsSchema = z.object({
  seed: int().optional(),
  host: z.string().optional(),
  port: int().max(65535).optional(),
  size: z.object({
    accounts: int(1), userTokens: int(1), accountTokensPerAccount: int(), membersPerAccount: int(1), userInvites: int(),
    organizations: int(), billingHistory: int(), ipAccessRules: int(), userAuditEntries: int(1), accountAuditEntries: int(1),
    accountAuditV1Entries: int(1), auditDays: int(1), users: int(1), extraUserTokens: int(), extraUserAuditEntries: int(1),
  }).partial().optional(),
  rateLimit: rateLimit.optional(),
  // A JSON string (environment) or an array; parsed first so an issue names the rule and field at fault.
  faults: z.preprocess((v, ctx) => {
    if (typeof v !== 'string') return v;
    try { return JSON.parse(v) as unknown; } catch { ctx.addIssue({ code: 'custom', message: 'faults must be JSON' }); return z.NEVER; }
  }, z.array(faultRule)).optional(),
  extraCredentials: z.array(issueSpecSchema).optional(),
  audit: auditSettingsSchema.optional(),
});
export type SimulatorCliOptions = z.infer<typeof simulatorOptionsSchema>;
