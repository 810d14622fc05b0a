// The world of the round bench: many accounts, each seen by exactly one of many user credentials
// (a service provider's or an enterprise's shape: one user per group of accounts, one budget each).
// The simulator runs in the bench's own process: its stats are the measurement, and the workers that
// are measured are separate processes.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type IssuedCredential, startSimulator, type Simulator } from '../src/simulator/index.js';

export interface RoundSize {
  accounts: number;
  credentials: number;
  membersPerAccount: number;
  tokensPerAccount: number;
  auditPerAccount: number;
  /** The simulator's limit per budget (and flarewatch's setting): requests per window. */
  rate: { requests: number; windowMs: number };
}

const num = (v: string | undefined, d: number) => (v === undefined || v === '' ? d : Number(v));

/**
 * Sizes from BENCH_ROUND_*. The issue's shape is 1,000 accounts through 50 credentials (20 each);
 * the defaults keep that shape at a tenth (100 through 5), because a round of 11,500 streams takes
 * longer than the bench's ten minutes on a 2-core machine (see README, *Measured*).
 */
export function roundSize(env: NodeJS.ProcessEnv): RoundSize {
  // Cloudflare's rate (1,200 / 5 min = 4 a second) in a 5 s window.
  const [requests, seconds] = (env.BENCH_ROUND_RATE ?? '20/5').split('/').map(Number);
  return {
    accounts: num(env.BENCH_ROUND_ACCOUNTS, 100),
    credentials: num(env.BENCH_ROUND_CREDENTIALS, 5),
    membersPerAccount: num(env.BENCH_ROUND_MEMBERS, 3),
    tokensPerAccount: num(env.BENCH_ROUND_TOKENS, 2),
    auditPerAccount: num(env.BENCH_ROUND_AUDIT, 20),
    rate: { requests: requests!, windowMs: seconds! * 1000 },
  };
}

export interface RoundWorld {
  sim: Simulator;
  size: RoundSize;
  /** FLAREWATCH_CONFIG: one credential per user, `c0` … */
  configFile: string;
  /** Credential name → its user's id (the simulator's rate-limit bucket is `user:<id>`). */
  users: Map<string, string>;
}

/**
 * Accounts split evenly over the credentials' users (user k+1 member of accounts k·n … k·n+n−1);
 * every audit stream and user-level listing small, so the round is many streams, not much data.
 */
export async function roundWorld(size: RoundSize): Promise<RoundWorld> {
  const sim = await startSimulator({
    seed: 29, rateLimit: false,
    size: {
      accounts: size.accounts, users: 1, membersPerAccount: size.membersPerAccount, accountTokensPerAccount: size.tokensPerAccount,
      accountAuditEntries: size.auditPerAccount, accountAuditV1Entries: Math.max(1, Math.round(size.auditPerAccount / 4)),
      userAuditEntries: 5, extraUserAuditEntries: 5, auditDays: 2, userTokens: 2, extraUserTokens: 2,
      userInvites: 1, organizations: 1, billingHistory: 2, ipAccessRules: 2,
    },
  });
  const per = Math.ceil(size.accounts / size.credentials);
  const ids = sim.world.accounts.map((a) => a.id);
  const users = new Map<string, string>();
  const entries: Array<{ name: string; apiToken: string }> = [];
  for (let k = 0; k < size.credentials; k++) {
    const slice = ids.slice(k * per, (k + 1) * per);
    if (!slice.length) break;
    const u = sim.world.addUser({ accounts: slice });
    const c = sim.issueCredential({ kind: 'user-token', user: sim.world.users.indexOf(u) }) as Extract<IssuedCredential, { kind: 'user-token' }>;
    users.set(`c${k}`, u.user.id);
    entries.push({ name: `c${k}`, apiToken: c.value });
  }
  const dir = mkdtempSync(join(tmpdir(), 'flarewatch-bench-round-'));
  const configFile = join(dir, 'flarewatch.json');
  writeFileSync(configFile, JSON.stringify({ cloudflare: { credentials: entries } }));
  sim.setRateLimit({ requests: size.rate.requests, windowMs: size.rate.windowMs });
  return { sim, size, configFile, users };
}
