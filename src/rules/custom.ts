import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../db/client.js';
import { parseHeader } from './custom-sql.js';
import { withRuleConnection } from './rule-connection.js';
import { readRuleRows } from './rule-cursor.js';
import { type Rule, type RuleHit, SEVERITIES, type Severity } from './types.js';

/** A custom rule file that could not be loaded: reported in the check run, never fatal. */
export interface RuleLoadProblem {
  file: string;
  ruleId: string;
  error: string;
}

export interface CustomRules {
  rules: Rule[];
  problems: RuleLoadProblem[];
}

const KNOWN = new Set(['resource_key', 'resource_type', 'resource_name', 'account_id', 'severity', 'last_event_at']);
const DEFAULT_TIMEOUT_MS = 30_000;

/** A custom rule is a Rule like any other; only its evaluate differs. */
export function customRule(file: string, text: string): Rule & { source: string } {
  const header = parseHeader(text);
  return {
    id: header.id,
    title: header.title,
    severity: header.severity,
    kind: header.kind,
    rationale: header.rationale,
    remediation: header.remediation,
    requires: header.requires.length ? header.requires : undefined,
    controls: header.controls,
    thresholds: { timeout_ms: { default: DEFAULT_TIMEOUT_MS, description: 'statement timeout of the query (ms)' } },
    source: file,
    evaluate: (ctx) => runCustomQuery(ctx.pool, text, { ...ctx.config.customSql, timeoutMs: Number(ctx.thresholds.timeout_ms ?? DEFAULT_TIMEOUT_MS) }, header.severity),
  };
}

export interface CustomQueryOptions {
  timeoutMs: number;
  maxRows: number;
  maxBytes: number;
  readerPassword?: string | undefined;
}

/**
 * Runs the rule's text, as written, in a session logged in as the database's reader role
 * (src/rules/rule-connection.ts), READ ONLY, through the extended protocol (one statement:
 * the server refuses a second), its rows read through a bounded cursor (./rule-cursor.ts).
 */
export async function runCustomQuery(db: Db, statement: string, opts: CustomQueryOptions, fallback: Severity): Promise<RuleHit[]> {
  const res = await withRuleConnection(db, opts, (client) => readRuleRows(client, statement, opts));
  const columns = res.fields;
  for (const required of ['resource_key', 'resource_type']) {
    if (!columns.includes(required)) throw new Error(`the query returns no "${required}" column (it returns: ${columns.join(', ') || 'nothing'})`);
  }
  return res.rows.map((row, i) => {
    if (row.resource_key == null || row.resource_type == null) throw new Error(`row ${i + 1}: resource_key and resource_type must not be null`);
    const facts = Object.fromEntries(Object.entries(row).filter(([k]) => !KNOWN.has(k)));
    const severity = typeof row.severity === 'string' && (SEVERITIES as readonly string[]).includes(row.severity) ? (row.severity as Severity) : fallback;
    return {
      resourceKey: String(row.resource_key),
      resourceType: String(row.resource_type),
      resourceName: row.resource_name == null ? null : String(row.resource_name),
      accountId: row.account_id == null ? null : String(row.account_id),
      severity,
      lastEventAt: eventTime(row.last_event_at, i),
      facts,
    };
  });
}

function eventTime(v: unknown, i: number): Date | null {
  if (v == null) return null;
  const d = v instanceof Date ? v : new Date(String(v));
  if (Number.isNaN(d.getTime())) throw new Error(`row ${i + 1}: last_event_at is not a time: ${JSON.stringify(v)}`);
  return d;
}

/** Every `*.sql` directly in `dir` (not its subfolders), in name order. A missing folder is no rules. */
export function loadCustomRules(dir: string, takenIds: Iterable<string> = []): CustomRules {
  const out: CustomRules = { rules: [], problems: [] };
  if (!existsSync(dir)) return out;
  const taken = new Set(takenIds);
  const files = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.sql')).map((e) => e.name).sort();
  for (const name of files) {
    const file = join(dir, name);
    try {
      const rule = customRule(file, readFileSync(file, 'utf8'));
      if (taken.has(rule.id)) throw new Error(`id "${rule.id}" is already used by another rule`);
      taken.add(rule.id);
      out.rules.push(rule);
    } catch (err) {
      out.problems.push({ file, ruleId: headerId(file) ?? `custom:${name.replace(/\.sql$/, '')}`, error: (err as Error).message });
    }
  }
  return out;
}

function headerId(file: string): string | undefined {
  try {
    return parseHeader(readFileSync(file, 'utf8')).id;
  } catch {
    return undefined;
  }
}
