import { z } from 'zod';
import { bool, duration, int } from './fields.js';

// `remediation`: off by default. With it off flarewatch sends no write whatever it is asked
// (src/remediation/write-client.ts is the one place a write leaves the process).

export const HYGIENE_ACTIONS = ['disable', 'delete', 'set-expiry'] as const;

const policySchema = z.strictObject({
  /** The rule whose open, unsuppressed findings the policy acts on (a token rule: the action is on the token). */
  rule: z.string().min(1),
  action: z.enum(HYGIENE_ACTIONS),
  /** How long a finding has been open before the action date. */
  after: duration('90d'),
  /** How long before the action date the owner and the sinks are told; the action never comes sooner than this after the notice. */
  notice: duration('14d'),
  /** true: on the date the plan is applied with the policy as its approval; false: the plan waits for people. */
  auto: bool(false),
  /** set-expiry: the expiry set, this long after the action date. */
  expiresIn: duration('30d'),
});

/** Where a rolled token's new secret goes (never printed, never stored by flarewatch). */
const rollDestinationSchema = z.union([
  z.strictObject({ file: z.string().min(1) }),
  z.strictObject({ command: z.string().min(1) }),
]);

export const remediationConfigSchema = z
  .strictObject({
    enabled: bool(false),
    /** Distinct approvers a plan with a destructive action needs (the planner never counts). */
    approvals: int(2, 1, 10),
    /** The credential that sends writes (it must say `write: true`); unset: the only credential marked so. */
    credential: z.string().min(1).optional(),
    /** Hygiene policies, checked after every check run. */
    policies: z.array(policySchema).default([]),
    /**
     * Hygiene notices (and their cancellations) also go straight to the token's owner or creator, by
     * e-mail where the address is known, through an email sink's SMTP settings. On by default; it
     * does nothing without an email sink.
     */
    notifyOwners: bool(true),
    /** The email sink whose SMTP settings carry owner notices; unset: the first email sink by name. */
    ownerEmailSink: z.string().min(1).optional(),
    /** Token id → where its new secret goes when rolled. A token without one is never rolled. */
    rollDestinations: z.record(z.string().regex(/^[0-9a-f]{32}$/i, 'a token id is 32 hexadecimal characters'), rollDestinationSchema).default({}),
  })
  .prefault({});

export type RemediationConfig = z.infer<typeof remediationConfigSchema>;
export type HygienePolicy = RemediationConfig['policies'][number];
export type RollDestination = z.infer<typeof rollDestinationSchema>;
