import { type SQL, sql } from 'drizzle-orm';
import type { FindingKind } from '../schema/findings.js';
import { type FactsQuery, hitsWithFacts, isFactsQuery } from '../../rules/facts-query.js';
import type { Tx } from '../client.js';
import { copyRows, transactionClient } from '../copy.js';
import type { PreparedHit } from '../../findings/plan.js';
import { SEVERITIES, type Severity } from '../../rules/types.js';

/** A rule hit as staged for the merge, in the rule's order: a prepared hit before SQL works out its fingerprint and suppression. */
export type StagedHit = Omit<PreparedHit, 'fingerprint' | 'suppressionId'>;

const COLUMNS = ['ord', 'resource_key', 'resource_type', 'resource_name', 'account_id', 'severity', 'facts', 'last_event_at'] as const;

/**
 * `finding_hits`, a temporary table of this transaction. The checks are what a rule's hit must
 * be whichever way it arrives (from Node or from the rule's own query): named, so a broken rule
 * fails with a sentence (hitProblem).
 */
async function createStage(tx: Tx): Promise<void> {
  await tx.execute(sql`drop table if exists pg_temp.finding_hits`);
  await tx.execute(sql`
    create temp table finding_hits (
      ord int not null, resource_key text not null, resource_type text not null, resource_name text,
      account_id text, severity text not null, facts jsonb, last_event_at timestamptz, input_hash bigint,
      constraint "a hit has no resource key" check (resource_key <> ''),
      constraint "a hit has no resource type" check (resource_type <> ''),
      constraint "a hit has an unknown severity" check (severity in (${sql.raw(SEVERITIES.map((s) => `'${s}'`).join(', '))})),
      constraint "a hit's facts are not an object" check (jsonb_typeof(facts) = 'object'),
      -- Facts left unbuilt stand for those of the open finding stored with the same input hash.
      constraint "a hit has no facts" check (facts is not null or input_hash is not null)
    ) on commit drop`);
}

/**
 * How the hits will be merged. `allNew`: the rule has no findings (src/findings/merge-direct.ts):
 * no stored facts to reuse and no join for the planner to estimate.
 */
export interface StageOptions { allNew?: boolean }

/** Row counts for the planner (a temporary table is never analysed on its own), for the general merge's joins. */
async function analyzeStage(tx: Tx, rows: number, opts: StageOptions): Promise<void> {
  if (rows > 1000 && !opts.allNew) await tx.execute(sql`analyze finding_hits (resource_key)`);
}

/**
 * The rule's hits into `finding_hits` with COPY (one stream, no per-row statement and no
 * parameter PostgreSQL must parse whole).
 */
export async function stageHits(tx: Tx, hits: StagedHit[], opts: StageOptions = {}): Promise<void> {
  await createStage(tx);
  if (hits.length === 0) return;
  // The stage lives as long as the rule's transaction (on commit drop): there is always a client to COPY on.
  const client = transactionClient(tx);
  if (!client) throw new Error('internal: hits are staged inside the rule\'s transaction');
  const rows = hits.map((h, i) => [i, h.resourceKey, h.resourceType, h.resourceName, h.accountId, h.severity, h.facts, h.lastEventAt]);
  await copyRows(client, 'finding_hits', COLUMNS, rows);
  await analyzeStage(tx, hits.length, opts);
}

/**
 * The stored findings whose facts a hit of the same input hash need not build again: the rule's open
 * state findings (a resolved one reopens with facts of its own; a detection compares facts for newer evidence).
 */
const knownFacts = (ruleId: string) => sql`
  select f.resource_key, f.input_hash from findings f
  where f.rule_id = ${ruleId} and f.status = 'open' and f.kind = 'state' and f.input_hash is not null`;

/** A rule's query as rows of (ord, HitRow's columns, input_hash): a FactsQuery's facts only where the hash is not its open finding's. */
function stagedRows(query: SQL | FactsQuery, rule: { ruleId: string; kind: FindingKind }, opts: StageOptions): SQL {
  if (isFactsQuery(query)) return hitsWithFacts(query, rule.kind === 'state' && !opts.allNew ? { known: knownFacts(rule.ruleId) } : {});
  return sql`select (row_number() over ())::int - 1 as ord, q.*, null::bigint as input_hash from (${query}) q`;
}

/**
 * A set-based rule's hits, staged by PostgreSQL from the rule's own query (HitRow's columns, in
 * the rule's order): no hit travels to Node and back. Severity settles as for hits from Node: the
 * configured override, else the hit's, else the rule's. Returns how many were staged.
 */
export async function stageHitsFromQuery(
  tx: Tx, query: SQL | FactsQuery, severity: { rule: Severity; override?: Severity }, rule: { ruleId: string; kind: FindingKind }, opts: StageOptions = {},
): Promise<number> {
  await createStage(tx);
  const res = await tx.execute(sql`
    insert into finding_hits (ord, resource_key, resource_type, resource_name, account_id, severity, facts, last_event_at, input_hash)
    select h.ord, h.resource_key, h.resource_type, h.resource_name, h.account_id,
           coalesce(${severity.override ?? null}::text, h.severity, ${severity.rule}::text), h.facts, h.last_event_at, h.input_hash
    from (${stagedRows(query, rule, opts)}) h`);
  const rows = res.rowCount ?? 0;
  await analyzeStage(tx, rows, opts);
  return rows;
}

/** The sentence for a hit that breaks the stage's checks (a rule's bug), or undefined for any other error. */
export function hitProblem(err: unknown): string | undefined {
  const e = (err as { cause?: unknown }).cause ?? err;
  const pg = e as { code?: string; table?: string; constraint?: string; column?: string };
  if (pg.table !== 'finding_hits') return undefined;
  if (pg.code === '23514' && pg.constraint) return pg.constraint;
  if (pg.code === '23502' && pg.column) return `a hit has no ${pg.column.replace(/_/g, ' ')}`;
  return undefined;
}
