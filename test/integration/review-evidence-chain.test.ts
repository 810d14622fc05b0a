import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reviewVerifyCommand } from '../../src/commands/review-verify.js';
import { reviewAttestCommand, reviewExportCommand, reviewStartCommand } from '../../src/commands/review.js';
import type { Evidence } from '../../src/review/evidence.js';
import { signDigest } from '../../src/review/signing.js';
import { runChecks } from '../../src/rules/engine.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { succeeded } from '../helpers/audit.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

// The database owner as adversary: they can turn the append-only trigger off and change a
// signed-off decision. The pack exported afterwards must show it (`review verify`), and a chain
// they recompute to hide it must be exposed by a pack exported before.
let db: TestDatabase;
let sim: Simulator;
let ctx: TestContext;
let dir: string;
let review: number;
let token: string;
const keyFile = () => join(dir, 'keys', 'review-signing-key.pem');

async function exportTo(name: string): Promise<string> {
  const file = join(dir, name);
  await reviewExportCommand(ctx, review, 'json', file);
  return file;
}
const verify = (file: string, o: { publicKey?: string; previous?: string } = {}) => reviewVerifyCommand(file, o);

/** What an owner does: trigger off, rows changed, trigger on. */
async function asOwner(sql: string, params: unknown[] = []): Promise<void> {
  await db.pool.query('alter table review_decisions disable trigger review_decisions_append_only');
  await db.pool.query(sql, params);
  await db.pool.query('alter table review_decisions enable trigger review_decisions_append_only');
}

beforeAll(async () => {
  db = await createTestDatabase();
  dir = mkdtempSync(join(tmpdir(), 'flarewatch-evidence-'));
  sim = await startSimulator({ seed: 2024, rateLimit: false, size: { accounts: 1, userTokens: 2, accountTokensPerAccount: 3, membersPerAccount: 3, userAuditEntries: 2, accountAuditEntries: 2, accountAuditV1Entries: 2, auditDays: 1 } });
  ctx = testContext(db, sim, { LOG_LEVEL: 'info', FLAREWATCH_REVIEW_SIGNING_KEY: keyFile() });
  for (const o of await syncAll(ctx, { streams: [] })) succeeded(o);
  await runChecks(ctx);
  review = Number(/^review (\d+) /.exec((await reviewStartCommand(ctx, { name: 'chain', by: 'carol' })).output)![1]);
  token = sim.world.accountTokens(sim.world.accounts[0]!.id)[0]!.id;
  await reviewAttestCommand(ctx, review, [token], { decision: 'keep', by: 'dave', note: 'needed "for now"\n(until Q3)' });
  await reviewAttestCommand(ctx, review, [token], { decision: 'revoke', by: 'carol', note: 'unused since January' });
});

afterAll(async () => {
  await sim?.close();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('review decisions are hash-chained, packs signed, `review verify` checks them offline', () => {
  let honest: string;

  it('an honest pack verifies; the key was created 0600 outside the database, and its public half pins it', async () => {
    honest = await exportTo('honest.json');
    expect(statSync(keyFile()).mode & 0o777).toBe(0o600);
    const pack = JSON.parse(readFileSync(honest, 'utf8')) as Evidence;
    expect(JSON.stringify(pack)).not.toContain('PRIVATE KEY');
    expect(pack.chain.decisions.map((d) => [d.seq, d.decision, d.by])).toEqual([[1, 'keep', 'dave'], [2, 'revoke', 'carol']]);
    const res = verify(honest, { publicKey: `${keyFile()}.pub` });
    expect(res.exitCode).toBe(0);
    expect(res.output).toMatch(/^.*honest\.json: verified\nok {6}digest: sha256 [0-9a-f]{64}\nok {6}signature: ed25519, key [0-9a-f]{64} \(the key given\)\nok {6}chain: 2 decision\(s\), continuous, head #2 [0-9a-f]{64}\n/);
    expect(res.output).toMatch(/What it does not prove: .*holder of the signing key/s);
  });

  it('many reviewers at once never fork the chain', async () => {
    const items = (await db.pool.query<{ item_key: string }>('select item_key from review_items where review_id = $1 order by item_key limit 5', [review])).rows;
    await Promise.all(items.map((i, n) => reviewAttestCommand(ctx, review, [i.item_key], { decision: 'keep', by: `r${n}` })));
    const rows = (await db.pool.query<{ chain_seq: number }>('select chain_seq from review_decisions where review_id = $1 order by chain_seq', [review])).rows;
    expect(rows.map((r) => r.chain_seq)).toEqual(Array.from({ length: 2 + items.length }, (_, i) => i + 1));
    honest = await exportTo('honest.json');
    expect(verify(honest).exitCode).toBe(0);
  });

  it('a decision the database owner changed is detected, at that decision', async () => {
    await asOwner(`update review_decisions set decision = 'keep', note = 'approved' where review_id = $1 and chain_seq = 2`, [review]);
    const res = verify(await exportTo('tampered.json'));
    expect(res.exitCode).toBe(1);
    expect(res.output).toMatch(/NOT verified/);
    expect(res.output).toMatch(/^FAILED  chain: decision #2 \(id \d+, token:[0-9a-f]+\) was changed after it was recorded: its fields no longer give its hash$/m);
    // The digest and the signature are fine: they only say the pack is what was exported.
    expect(res.output).toMatch(/^ok {6}signature:/m);
  });

  it('a chain recomputed to hide the change passes alone, and is exposed by the pack exported before it', async () => {
    // The owner recomputes every hash after the edit, as the trigger would have.
    await asOwner(`
      do $$ declare d review_decisions; prev text := repeat('0', 64); begin
        for d in select * from review_decisions where review_id = ${review} order by chain_seq loop
          d.prev_hash := prev;
          d.row_hash := encode(sha256(convert_to(flarewatch_review_decision_canonical(d), 'UTF8')), 'hex');
          update review_decisions set prev_hash = d.prev_hash, row_hash = d.row_hash where id = d.id;
          prev := d.row_hash;
        end loop; end $$`);
    const rewritten = await exportTo('rewritten.json');
    expect(verify(rewritten).exitCode).toBe(0);
    const res = verify(rewritten, { previous: honest });
    expect(res.exitCode).toBe(1);
    expect(res.output).toMatch(/^FAILED  earlier pack: decision #2 \(id \d+, token:[0-9a-f]+\) is not what the earlier pack recorded: the chain was rewritten since/m);
  });

  it('a pack edited after export fails its digest; re-digested, its signature; signed with another key, the pinned key', async () => {
    const pack = JSON.parse(readFileSync(honest, 'utf8')) as Evidence;
    pack.summary.undecided += 1;
    writeFileSync(join(dir, 'edited.json'), JSON.stringify(pack));
    expect(verify(join(dir, 'edited.json')).output).toMatch(/^FAILED  digest: the pack's content does not give its digest/m);

    const { createHash } = await import('node:crypto');
    const { digestInput } = await import('../../src/review/evidence.js');
    pack.digest = createHash('sha256').update(digestInput(pack)).digest('hex');
    writeFileSync(join(dir, 'redigested.json'), JSON.stringify(pack));
    expect(verify(join(dir, 'redigested.json')).output).toMatch(/^FAILED  signature: the signature does not match the digest or the key$/m);

    pack.signature = signDigest(pack.digest, generateKeyPairSync('ed25519').privateKey);
    writeFileSync(join(dir, 'resigned.json'), JSON.stringify(pack));
    expect(verify(join(dir, 'resigned.json')).exitCode).toBe(0);
    const pinned = verify(join(dir, 'resigned.json'), { publicKey: `${keyFile()}.pub` });
    expect(pinned.exitCode).toBe(1);
    expect(pinned.output).toMatch(/^FAILED  signature: ed25519.*|^FAILED  signature: signed by key [0-9a-f]{16}…, not by the key given/m);
  });
});
