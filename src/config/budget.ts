import { z } from 'zod';
import { bool, duration } from './fields.js';

/**
 * How long each inventory stream kind may go unwalked when the budget is short (the plan's priority):
 * 0 = every round. Audit streams are not listed: they are walked every round first (they are the
 * data Cloudflare deletes). A kind not listed here gets `defaultMaxStaleness`.
 */
export const DEFAULT_MAX_STALENESS: Record<string, string> = {
  accounts: '0',
  'user-tokens': '0',
  'account-tokens': '0',
  members: '0',
  user: '6h',
  'user-invites': '6h',
  'user-organizations': '6h',
  roles: '6h',
  'ip-access-rules': '6h',
  'permission-groups': '24h',
  'account-permission-groups': '24h',
  'user-subscriptions': '24h',
  'account-subscriptions': '24h',
  'billing-history': '24h',
};

export const budgetConfigSchema = z
  .strictObject({
    // Plan rounds to the budget (off: every due stream is walked every round, however long that takes).
    enabled: bool(true),
    // The share of each budget (Cloudflare's limit per user or account token) flarewatch plans to use;
    // the rest is left to the organisation's other tools (Terraform, scripts, dashboards).
    share: z.coerce.number().gt(0).max(1).default(0.6),
    // A round whose walks met a 429 halves the share of that budget for this long (at most 3 halvings).
    backoffWindow: duration('1h'),
    defaultMaxStaleness: duration('6h'),
    // Per stream kind, overriding DEFAULT_MAX_STALENESS: `{ "billing-history": "48h" }`.
    maxStaleness: z.record(z.string(), duration('0')).default({}),
  })
  .prefault({});

export type BudgetConfig = z.infer<typeof budgetConfigSchema>;
