import type { SQL } from 'drizzle-orm';
import type { z } from 'zod';
import type { Config } from '../config.js';
import type { Db, Tx } from '../db/client.js';
import type { FindingKind } from '../db/schema/findings.js';
import type { Severity } from '../config/severity.js';
import type { DayFacts, FactsQuery } from './facts-query.js';

export { SEVERITIES, type Severity, severityRank } from '../config/severity.js';

/** A threshold a rule reads from config (`rules.<rule id>.<name>`), with its default. */
export interface ThresholdSpec {
  default: number | string | string[] | number[] | Array<Record<string, unknown>>;
  description: string;
  /** Validates (and coerces) a config value that is not a plain number, string or list. */
  schema?: z.ZodType;
}

/** Settings written in an older form, rewritten before they are checked (or refused, with the reason). */
export interface LegacySettings {
  settings: Record<string, unknown>;
  /** The rewrite, told to the operator (`flarewatch rules`, a warning per check run). */
  notes: string[];
  problems: string[];
}

/** What a rule's query receives: dependencies passed in, thresholds already resolved from config. */
export interface RuleContext {
  /** The rule's own transaction, holding its findings lock: what it reads is what its findings are planned against. */
  db: Tx;
  /** The pool, for what must not run in the rule's transaction (a custom SQL rule runs on a connection of its own, as the reader role). */
  pool: Db;
  config: Config;
  now: Date;
  /** This rule's thresholds: config values over the rule's defaults. */
  thresholds: Record<string, unknown>;
}

/** One offending resource (state), or one group of events (detection), as a rule returns it. */
export interface RuleHit {
  /** Stable across runs for the same resource, e.g. `token:<id>`, `member:<account>:<member id>`, `actor:<email>|<window start>`. */
  resourceKey: string;
  resourceType: 'token' | 'member' | 'account' | 'invite' | 'audit_entry' | 'actor' | 'user' | string;
  /** Human label: token name, member email, account name. Untrusted text from Cloudflare. */
  resourceName?: string | null;
  accountId?: string | null;
  /** Overrides the rule's default severity for this hit (e.g. rising as expiry nears). */
  severity?: Severity;
  /** The facts that justify the finding; stored as jsonb and shown in alerts. */
  facts: Record<string, unknown>;
  /** Detections: the time of the latest event covered. Newer evidence reopens an acknowledged detection. */
  lastEventAt?: string | Date | null;
}

/**
 * One hit as a set-based rule's query returns it (column names as here): what the check run stages
 * in PostgreSQL without the hit passing through Node. `severity` null: the rule's default.
 */
export interface HitRow extends Record<string, unknown> {
  resource_key: string;
  resource_type: string;
  resource_name: string | null;
  account_id: string | null;
  severity: Severity | null;
  facts: Record<string, unknown>;
  last_event_at: string | null;
}

export interface Rule {
  id: string;
  title: string;
  severity: Severity;
  /** state (default): open while true, resolved when fixed. detection: something happened; open until acknowledged. */
  kind?: FindingKind;
  rationale: string;
  remediation: string;
  thresholds?: Record<string, ThresholdSpec>;
  /** Rewrites (or refuses) settings given in a form this rule no longer takes. */
  legacySettings?: (given: Record<string, unknown>) => LegacySettings;
  /** A reason to resolve an open finding of a key this rule no longer produces (keys from an older version of it). */
  retire?: (resourceKey: string) => string | undefined;
  /**
   * The controls the rule gives evidence for, as `FRAMEWORK:ID` (src/compliance/controls.ts):
   * shown by `flarewatch rules`, in findings JSON/CSV and review exports, filtered by `findings --control`.
   */
  controls?: string[];
  /** Tables the rule needs; a rule whose tables are empty/missing is skipped, not failed. */
  requires?: Array<'audit_logs'>;
  /** Set-based: one query (or a few) over the synced tables, never a loop of queries per row. */
  evaluate(ctx: RuleContext): Promise<RuleHit[]>;
  /**
   * A rule that is one query: its hits as one SELECT of HitRow's columns, in the rule's order. A check
   * run stages them inside PostgreSQL (they never travel to Node); evaluate() reads the same query
   * (sqlRule() in ./sql.ts builds both from it). It may read first (what it reads is the rule's transaction's).
   * A FactsQuery declares the facts' inputs (./facts-query.ts): a check run builds the facts of new or changed hits only.
   */
  hitsQuery?(ctx: RuleContext): SQL | FactsQuery | Promise<SQL | FactsQuery>;
  /**
   * Facts of the hits evaluate() returns that count days from now, with the fact holding their date
   * (./facts-query.ts DayCount): compared by that date, counted again when read. A FactsQuery declares its own.
   */
  dayFacts?: DayFacts;
}
