// Before/after pairs of the rules bench (bench/rules.ts) on one seeded database: seeded once, then
// measureRules run BENCH_PAIRS times in each merge, alternating, findings emptied between. "general":
// every rule holds one resolved finding of a key no rule returns, so its first check takes the
// general merge (src/findings/merge-plan.ts) as before the direct write; "direct": the findings are
// empty, so a rule's first check writes straight from its hits (src/findings/merge-direct.ts).
// Sizes as bench/rules.ts (BENCH_RULE_TOKENS, BENCH_RULE_AUDIT). Run: npx tsx bench/rules-pairs.ts
import { execFileSync } from 'node:child_process';
import type { Database } from '../src/db/client.js';
import { BUILTIN_RULES } from '../src/rules/catalog.js';
import { benchPostgres } from './lib.js';
import { measureRules, seed } from './rules.js';

const PAIRS = Number(process.env.BENCH_PAIRS ?? 2);

async function prepare(database: Database, merge: 'general' | 'direct'): Promise<void> {
  await database.pool.query(`truncate findings, finding_events, rule_states, check_runs restart identity cascade`);
  if (merge === 'direct') return;
  await database.pool.query(
    `insert into findings (fingerprint, rule_id, kind, resource_key, resource_type, severity, status, title, facts, resolved_at)
     select 'bench-' || r, r, 'state', 'bench:none', 'bench', 'low', 'resolved', r, '{}', now() from unnest($1::text[]) r`,
    [BUILTIN_RULES.map((r) => r.id)],
  );
}

const load = () => execFileSync('uptime', { encoding: 'utf8' }).trim().replace(/^.*load average: /, '');

const pgs = await benchPostgres(56432 + (process.pid % 1000));
try {
  const { database } = await pgs.freshDatabase();
  const t0 = performance.now();
  await seed(database);
  console.log(`seeded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  for (let i = 0; i < PAIRS; i++) {
    for (const merge of i % 2 === 0 ? (['general', 'direct'] as const) : (['direct', 'general'] as const)) {
      await prepare(database, merge);
      console.log(`\n### ${merge} (pair ${i + 1}), load average at start ${load()}`);
      await measureRules(database);
      console.log(`load average at end ${load()}`);
    }
  }
  await database.close();
} finally {
  await pgs.stop();
}
