import type { Config } from '../config.js';
import type { Db } from '../db/client.js';

export const SEVERITIES = ['info', 'low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const severityRank = (s: Severity) => SEVERITIES.indexOf(s);

/** A threshold a rule reads from config (`rules.<rule id>.<name>`), with its default. */
export interface ThresholdSpec {
  default: number | string | string[] | number[];
  description: string;
}

/** What a rule's query receives: dependencies passed in, thresholds already resolved from config. */
export interface RuleContext {
  db: Db;
  config: Config;
  now: Date;
  /** This rule's thresholds: config values over the rule's defaults. */
  thresholds: Record<string, unknown>;
}

/** One offending resource, as a rule returns it. */
export interface RuleHit {
  /** Stable across runs for the same resource, e.g. `token:<id>`, `member:<account>:<member id>`. */
  resourceKey: string;
  resourceType: 'token' | 'member' | 'account' | 'invite' | 'audit_entry' | 'actor' | 'user' | string;
  /** Human label: token name, member email, account name. Untrusted text from Cloudflare. */
  resourceName?: string | null;
  accountId?: string | null;
  /** Overrides the rule's default severity for this hit (e.g. rising as expiry nears). */
  severity?: Severity;
  /** The facts that justify the finding; stored as jsonb and shown in alerts. */
  facts: Record<string, unknown>;
}

export interface Rule {
  id: string;
  title: string;
  severity: Severity;
  rationale: string;
  remediation: string;
  thresholds?: Record<string, ThresholdSpec>;
  /** Tables the rule needs; a rule whose tables are empty/missing is skipped, not failed. */
  requires?: Array<'audit_logs'>;
  /** Set-based: one query (or a few) over the synced tables, never a loop of queries per row. */
  evaluate(ctx: RuleContext): Promise<RuleHit[]>;
}
