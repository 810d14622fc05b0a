import { sql } from 'drizzle-orm';
import type { Tx } from '../client.js';
import { copyRows, transactionClient } from '../copy.js';
import type { PreparedHit } from '../../findings/plan.js';

/** A rule hit as staged for the merge, in the rule's order: a prepared hit before SQL works out its fingerprint and suppression. */
export type StagedHit = Omit<PreparedHit, 'fingerprint' | 'suppressionId'>;

const COLUMNS = ['ord', 'resource_key', 'resource_type', 'resource_name', 'account_id', 'severity', 'facts', 'last_event_at'] as const;

/**
 * The rule's hits into `finding_hits`, a temporary table of this transaction, with COPY (one
 * stream, no per-row statement and no parameter PostgreSQL must parse whole).
 */
export async function stageHits(tx: Tx, hits: StagedHit[]): Promise<void> {
  await tx.execute(sql`drop table if exists pg_temp.finding_hits`);
  await tx.execute(sql`
    create temp table finding_hits (ord int not null, resource_key text not null, resource_type text not null, resource_name text,
                                    account_id text, severity text not null, facts jsonb not null, last_event_at timestamptz) on commit drop`);
  if (hits.length === 0) return;
  const rows = hits.map((h, i) => [i, h.resourceKey, h.resourceType, h.resourceName, h.accountId, h.severity, h.facts, h.lastEventAt]);
  const client = transactionClient(tx);
  if (client) {
    await copyRows(client, 'finding_hits', COLUMNS, rows);
  } else {
    const records = rows.map((r) => Object.fromEntries(COLUMNS.map((c, i) => [c, r[i]])));
    await tx.execute(sql`
      insert into finding_hits select * from jsonb_to_recordset(${JSON.stringify(records)}::jsonb)
        as x(ord int, resource_key text, resource_type text, resource_name text, account_id text, severity text, facts jsonb, last_event_at timestamptz)`);
  }
  // Row counts for the planner: a temporary table is never analysed on its own.
  if (hits.length > 1000) await tx.execute(sql`analyze finding_hits (resource_key)`);
}
