import { createHash } from 'node:crypto';
import { is, SQL, sql } from 'drizzle-orm';
import { PgDialect } from 'drizzle-orm/pg-core';

// A rule's facts declared once, as a list of (key, input, render): the rule's query selects the
// inputs (plain columns or cheap values: a timestamp, a day count), the facts are rendered from
// them (jsonb_build_object, to_char), and the input hash is taken over them. A check run joins the
// hits with their open findings by (resource key, input hash) and renders facts only where the hash
// differs: building facts was most of what an unchanged token rule cost (README, Measured).

/**
 * A fact that counts whole days between now and a date another fact of the hit holds (`since`:
 * days from it to now; `until`: days from now to it). Time passing is not a change in the world:
 * the check compares such a fact by its date, not its count (a finding is not rewritten because a
 * day went by), and readers count the days when they read (finding_facts(), migration 0030).
 */
export type DayCount = { since: string } | { until: string };

/** A rule's day-count facts by key: what rule_states.day_facts records for readers. */
export type DayFacts = Record<string, DayCount>;

/**
 * One fact of a hit. `input` is everything the fact's value depends on that the row holds (a day
 * count's input is its date, not the count: see DayCount); `render` makes the value from it
 * (default: the input itself) and may read the other inputs by key (`of`). A fact with `hidden`
 * is an input only: hashed, readable by render, not a fact. `days`: the fact is a day count.
 */
export interface Fact {
  key: string;
  input: SQL;
  render?: (own: SQL, of: (key: string) => SQL) => SQL;
  hidden?: boolean;
  days?: DayCount;
}

/** The day-count facts of a declaration. */
export const dayFactsOf = (facts: Fact[]): DayFacts => Object.fromEntries(facts.flatMap((f) => (f.days && !f.hidden ? [[f.key, f.days]] : [])));

/** A rule that is one query with declared facts: `rows` selects HitRow's columns but `facts`, and each fact's input (factInputs). */
export interface FactsQuery {
  rows: SQL;
  facts: Fact[];
}

export const isFactsQuery = (q: SQL | FactsQuery): q is FactsQuery => !is(q, SQL);

const column = (i: number) => sql.raw(`fact_${i}`);

/** The facts' inputs as columns of the rule's select list (fact_0, fact_1, …). */
export const factInputs = (facts: Fact[]) => sql.join(facts.map((f, i) => sql`${f.input} as ${column(i)}`), sql`, `);

/** Declare a rule's facts and write its query around their inputs (`inputs` goes in its select list). */
export function factsQuery(facts: Fact[], rows: (inputs: SQL) => SQL): FactsQuery {
  return { rows: rows(factInputs(facts)), facts };
}

const dialect = new PgDialect();

/**
 * What the hash starts from: the code that turns inputs into facts (keys, inputs' and renders'
 * SQL text, parameters left out), so a release that renders facts differently rebuilds them once.
 */
function codeSeed(facts: Fact[]): bigint {
  const at = (key: string) => sql`${sql.raw(`<${key}>`)}`;
  const text = facts.map((f) => [f.key, f.hidden ?? false, f.days ?? null, dialect.sqlToQuery(f.input).sql, dialect.sqlToQuery((f.render ?? ((x) => x))(sql.raw('<own>'), at)).sql]);
  return createHash('sha256').update(JSON.stringify(text)).digest().readBigInt64BE(0);
}

/** The facts of the row `h`, built from its input columns. */
function buildFacts(facts: Fact[], h: string): SQL {
  const of = (key: string) => {
    const i = facts.findIndex((f) => f.key === key);
    if (i < 0) throw new Error(`internal: no fact input ${key}`);
    return sql`${sql.raw(h)}.${column(i)}`;
  };
  const pairs = facts.flatMap((f, i) => (f.hidden ? [] : [sql`${f.key}::text, ${(f.render ?? ((x) => x))(sql`${sql.raw(h)}.${column(i)}`, of)}`]));
  return sql`jsonb_build_object(${sql.join(pairs, sql`, `)})`;
}

/**
 * A hash of the inputs (hash_record_extended: no value is turned into text). Only ever compared
 * with one stored by the same code: a different hash means "build and compare the facts", never a
 * change in itself, so a new PostgreSQL hashing differently costs one rebuild, not a transition.
 */
const inputHash = (facts: Fact[], h: string) =>
  sql`hash_record_extended(row(${sql.param(codeSeed(facts).toString())}::bigint, ${sql.join(facts.map((_, i) => sql`${sql.raw(h)}.${column(i)}`), sql`, `)}), 0)`;

export interface HitsWithFacts {
  /**
   * `(resource_key, input_hash)` of the stored findings whose facts stand for a hit of the same
   * hash (open state findings of the rule): such a hit's facts are null, not built. None: every hit's are built.
   */
  known?: SQL;
  /** Sort by the rule's order (evaluate() returns hits in it); a stage that keeps `ord` need not. */
  ordered?: boolean;
}

/** HitRow's columns, `ord` (the rule's order) and `input_hash`, from a FactsQuery. */
export function hitsWithFacts(q: FactsQuery, opts: HitsWithFacts = {}): SQL {
  const facts = opts.known
    ? sql`case when k.input_hash = h.input_hash then null else ${buildFacts(q.facts, 'h')} end`
    : buildFacts(q.facts, 'h');
  return sql`
    select h.ord, h.resource_key, h.resource_type, h.resource_name, h.account_id, h.severity, ${facts} as facts, h.last_event_at, h.input_hash
    from (select r.*, ${inputHash(q.facts, 'r')} as input_hash from (select (row_number() over ())::int - 1 as ord, x.* from (${q.rows}) x) r) h
    ${opts.known ? sql`left join (${opts.known}) k on k.resource_key = h.resource_key` : sql``}
    ${opts.ordered ? sql`order by h.ord` : sql``}`;
}
