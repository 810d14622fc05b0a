import { z } from 'zod';
import { FAULT_KINDS, type FaultKind } from './http/faults.js';

const int = (min = 0) => z.coerce.number().int().min(min);

const faultRule = z.object({
  route: z.string().min(1), kind: z.enum(FAULT_KINDS as unknown as [FaultKind, ...FaultKind[]]),
  probability: z.number().min(0).max(1).optional(), count: int().optional(), skip: int().optional(),
  status: z.number().int().min(400).max(599).optional(), retryAfter: z.number().min(0).optional(),
  delayMs: z.number().min(0).optional(), match: z.record(z.string(), z.string()).optional(),
});

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
    accountAuditV1Entries: int(1), auditDays: int(1),
  }).partial().optional(),
  rateLimit: rateLimit.optional(),
  faults: z.union([z.string().transform((s, ctx) => {
    try { return JSON.parse(s) as unknown; } catch { ctx.addIssue({ code: 'custom', message: 'faults must be JSON' }); return z.NEVER; }
  }).pipe(z.array(faultRule)), z.array(faultRule)]).optional(),
});
export type SimulatorCliOptions = z.infer<typeof simulatorOptionsSchema>;
