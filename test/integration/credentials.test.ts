import { afterEach, describe, expect, it } from 'vitest';
import { runOnce } from '../../src/commands/run.js';
import type { CredentialEntry } from '../../src/config/credentials.js';
import { type IssuedCredential, startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator/index.js';
import type { StreamOutcome } from '../../src/sync/runner.js';
import { outcomeOf, simDigest, dbDigest } from '../helpers/audit.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

// Every credential an organisation has (issue "Every credential"): account-owned tokens, several
// users, a global key, each walked for what it can see, once, under its own rate limit.

const T0 = Date.parse('2026-03-01T00:00:00Z');
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function world(opts: SimulatorOptions): Promise<{ sim: Simulator; db: TestDatabase }> {
  const sim = await startSimulator({ seed: 23, rateLimit: false, now: () => T0, ...opts, size: { auditDays: 3, accountAuditEntries: 300, accountAuditV1Entries: 120, userAuditEntries: 80, ...opts.size } });
  const db = await createTestDatabase();
  cleanups.push(() => db.drop(), () => sim.close());
  return { sim, db };
}

const token = (c: IssuedCredential) => (c.kind === 'global-key' ? '' : c.value);
const ctxFor = (db: TestDatabase, sim: Simulator, credentials: CredentialEntry[], env: Record<string, string> = {}): TestContext => {
  const ctx = testContext(db, sim, { LOG_LEVEL: 'info', ...env }, credentials);
  ctx.now = () => new Date(T0 + 3 * 60_000);
  return ctx;
};
const byStatus = (outcomes: StreamOutcome[]) => {
  const out: Record<string, string[]> = {};
  for (const o of outcomes) (out[o.status] ??= []).push(o.stream);
  for (const k of Object.keys(out)) out[k]!.sort();
  return out;
};
const rows = async (db: TestDatabase, sql: string, params: unknown[] = []) => (await db.pool.query(sql, params)).rows;

describe('an account-owned token as the only credential', () => {
  for (const prefix of [true, false]) {
    it(`${prefix ? 'cfat_-prefixed' : 'unprefixed (found by its verify endpoint)'}, with its account: run succeeds, stores the account, user-level streams are not applicable`, async () => {
      const { sim, db } = await world({ size: { accounts: 2 } });
      const account = sim.world.accounts[1]!.id;
      const acct = sim.issueCredential({ kind: 'account-token', account, prefix });
      const ctx = ctxFor(db, sim, [{ name: 'acme-prod', apiToken: token(acct), accounts: [account] }]);
      const result = await runOnce(ctx, { checks: false });
      expect(result.ok).toBe(true);
      const s = byStatus(result.outcomes);
      expect(s.failed).toBeUndefined();
      expect(s['not-applicable']).toEqual(
        ['billing-history', 'ip-access-rules', 'organizations', 'user', 'user-audit', 'user-invites', 'user-organizations', 'user-subscriptions', 'user-tokens'].map((k) => `${k}:acme-prod`).sort(),
      );
      expect(s.succeeded).toEqual(['accounts:acme-prod', ...['account-audit', 'account-audit-v1', 'account-permission-groups', 'account-subscriptions', 'account-tokens',
        'iam-permission-groups', 'members', 'resource-groups', 'roles', 'user-groups', 'zones'].map((k) => `${k}:${account}`)].sort());
      // It never asked for /user: an account-owned token cannot.
      expect(sim.stats.log.filter((l) => l.route.startsWith('GET /user') && l.route !== 'GET /user/tokens/verify')).toEqual([]);
      expect(await rows(db, `select id from accounts`)).toEqual([{ id: account }]);
      const tokens = await rows(db, `select id from api_tokens where account_id = $1 and deleted_at is null order by id`, [account]);
      expect(tokens.map((t) => t.id)).toEqual(sim.world.accountTokens(account).map((t) => t.id).sort());
      expect((await rows(db, `select count(*)::int as n from account_members where account_id = $1`, [account]))[0].n).toBe(sim.world.members(account).length);
      expect((await rows(db, `select count(*)::int as n from account_roles where account_id = $1`, [account]))[0].n).toBeGreaterThan(0);
      expect(await dbDigest(db.pool, 'account-v2', account)).toEqual(simDigest(sim, 'account-v2', account));
      expect(await rows(db, `select name, kind, status, account_id, token_id, user_id from credentials`)).toEqual([
        { name: 'acme-prod', kind: 'account-token', status: 'active', account_id: account, token_id: acct.kind === 'account-token' ? acct.tokenId : '', user_id: null },
      ]);
    });
  }

  it('without `accounts`: /accounts answers the same page whatever page is asked; one page, not a loop and not an error', async () => {
    const { sim, db } = await world({ size: { accounts: 3 } });
    const account = sim.world.accounts[2]!.id;
    const acct = sim.issueCredential({ kind: 'account-token', account, prefix: true });
    const result = await runOnce(ctxFor(db, sim, [{ name: 'acme', apiToken: token(acct) }]), { checks: false, streams: ['accounts', 'members'] });
    expect(byStatus(result.outcomes)).toEqual({ succeeded: ['accounts:acme', `members:${account}`] });
    expect(sim.stats.log.filter((l) => l.route === 'GET /accounts').map((l) => l.query.page)).toEqual(['1', '1']);
  });
});

describe('two users and an account-owned token over overlapping accounts', () => {
  async function setUp() {
    // A real clock: the simulator's rate-limit windows must roll over.
    const { sim, db } = await world({ size: { accounts: 3, users: 2, membersPerAccount: 5, accountTokensPerAccount: 3 }, rateLimit: { requests: 25, windowMs: 3_000 }, now: Date.now });
    const [a0, a1] = sim.world.accounts.map((a) => a.id) as [string, string, string];
    const alice = sim.issueCredential({ kind: 'user-token', user: 0, prefix: true });
    const bob = sim.issueCredential({ kind: 'user-token', user: 1 });
    const acct = sim.issueCredential({ kind: 'account-token', account: a1, prefix: true });
    const credentials: CredentialEntry[] = [
      { name: 'alice', apiToken: token(alice) },
      { name: 'bob', apiToken: token(bob) },
      { name: 'acme', apiToken: token(acct), accounts: [a1] },
    ];
    // Each credential paced at the simulator's limit for it: 25 per 3 s (per user, per account token).
    const env = { FLAREWATCH_RATE_LIMIT: '25/3s', FLAREWATCH_RATE_LIMIT_MARGIN: '0.05' };
    return { sim, db, a0, a1, credentials, env, users: sim.world.users, ctx: () => { const c = testContext(db, sim, { LOG_LEVEL: 'info', ...env }, credentials); return c; } };
  }

  it('keeps each user\'s tokens apart, walks each account once per round, no row flaps across rounds, zero 429s', async () => {
    const { sim, db, a1, users, ctx } = await setUp();
    // One process, two rounds (as the daemon would): its limiters know what the first round spent.
    const process = ctx();
    const first = await runOnce(process, { checks: false });
    expect(byStatus(first.outcomes).failed).toBeUndefined();
    const memberWalks = () => sim.stats.log.filter((l) => l.route === 'GET /accounts/:account_id/members').map((l) => l.path.split('/')[4]);
    // Every account once, by one credential; the account token's own account by the account token.
    expect(memberWalks().sort()).toEqual(sim.world.accounts.map((a) => a.id).sort());
    const walkers = await rows(db, `select stream, credential from sync_runs where stream like 'members:%' order by stream`);
    expect(walkers.find((w) => w.stream === `members:${a1}`)!.credential).toBe('acme');
    for (const w of walkers) expect(['alice', 'acme']).toContain(w.credential);
    // Each user's personal tokens, recorded as that user's.
    for (const [i, u] of users.entries()) {
      const stored = await rows(db, `select id from api_tokens where owner_type = 'user' and user_id = $1 and deleted_at is null order by id`, [u.user.id]);
      expect(stored.map((r) => r.id), `user ${i}`).toEqual(u.tokens.map((t) => t.id).sort());
    }
    // Second round: nothing changes, nothing flaps.
    sim.stats.reset();
    const second = await runOnce(process, { checks: false });
    expect(byStatus(second.outcomes).failed).toBeUndefined();
    expect(memberWalks().sort()).toEqual(sim.world.accounts.map((a) => a.id).sort());
    expect((await rows(db, `select count(*)::int as n from api_tokens where deleted_at is not null`))[0].n).toBe(0);
    expect((await rows(db, `select coalesce(sum(rows_marked_deleted), 0)::int as n from sync_runs`))[0].n).toBe(0);
    // Each credential stayed under its own limit: not one 429, for any of the three principals, and no
    // principal ever had more than its 25 requests in any 3 s.
    expect(sim.stats.byStatus[429]).toBeUndefined();
    const principals = Object.keys(sim.stats.byPrincipal).sort();
    expect(principals).toEqual([`user:${users[0]!.user.id}`, `user:${users[1]!.user.id}`, expect.stringMatching(/^account-token:/)].sort());
    for (const p of principals) {
      const at = sim.stats.log.filter((l) => l.principal === p).map((l) => l.at);
      const busiest = Math.max(...at.map((t) => at.filter((u) => u >= t && u < t + 3_000).length));
      expect(busiest, p).toBeLessThanOrEqual(25);
    }
    // The busiest principal (alice walks two accounts) needed its pacing: more than one window's worth in the round.
    expect(Math.max(...principals.map((p) => sim.stats.byPrincipal[p]!.total))).toBeGreaterThan(25);
  });

  it('each user\'s user-level streams are its own: names carry the credential, audit logs are per user', async () => {
    const { sim, db, users, ctx } = await setUp();
    const result = await runOnce(ctx(), { checks: false });
    for (const name of ['alice', 'bob']) expect(outcomeOf(result.outcomes, `user-tokens:${name}`).status).toBe('succeeded');
    expect(outcomeOf(result.outcomes, 'user-tokens:acme').status).toBe('not-applicable');
    expect(await dbDigest(db.pool, 'user-v1')).toMatchObject({ count: simDigest(sim, 'user-v1').count + simDigest(sim, 'user-v1', users[1]!.user.id).count });
    const creds = await rows(db, `select name, kind, user_id, account_id from credentials order by name`);
    expect(creds).toEqual([
      { name: 'acme', kind: 'account-token', user_id: null, account_id: sim.world.accounts[1]!.id },
      { name: 'alice', kind: 'user-token', user_id: users[0]!.user.id, account_id: null },
      { name: 'bob', kind: 'user-token', user_id: users[1]!.user.id, account_id: null },
    ]);
  });
});

describe('a global API key', () => {
  it('is identified through /user and walks like a user token', async () => {
    const { sim, db } = await world({ size: { accounts: 1 } });
    const result = await runOnce(ctxFor(db, sim, [{ name: 'legacy', email: sim.credentials.email, apiKey: sim.credentials.apiKey }]), { checks: false });
    expect(byStatus(result.outcomes).failed).toBeUndefined();
    expect(outcomeOf(result.outcomes, 'user-tokens:legacy').status).toBe('succeeded');
    expect(await rows(db, `select kind, user_email from credentials`)).toEqual([{ kind: 'global-key', user_email: sim.credentials.email }]);
  });
});

describe('the credential\'s own token', () => {
  it('is inventoried even when the credential cannot list tokens, so a rule can warn before it expires', async () => {
    const { sim, db } = await world({ size: { accounts: 1 } });
    const expiresOn = new Date(T0 + 5 * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const cred = sim.issueCredential({ kind: 'user-token', prefix: true, expiresOn, deny: ['GET /user/tokens'] });
    const result = await runOnce(ctxFor(db, sim, [{ name: 'ops', apiToken: token(cred) }]), { checks: false });
    expect(outcomeOf(result.outcomes, 'user-tokens:ops').status).toBe('failed');
    const own = await rows(db, `select id, owner_type, status, expires_on from api_tokens where id = $1`, [cred.kind === 'user-token' ? cred.tokenId : '']);
    expect(own).toEqual([{ id: cred.kind === 'user-token' ? cred.tokenId : '', owner_type: 'user', status: 'active', expires_on: new Date(expiresOn) }]);
    expect((await rows(db, `select expires_on from credentials where name = 'ops'`))[0].expires_on).toEqual(new Date(expiresOn));
  });
});
