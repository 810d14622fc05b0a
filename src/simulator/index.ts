import type { AddressInfo } from 'node:net';
import { CredentialStore, type IssuedCredential, type IssueSpec, type Principal } from './credentials.js';
import { DEFAULT_CREDENTIALS, type SimCredentials } from './http/auth.js';
import { FaultPlan, type FaultRule } from './http/faults.js';
import { DEFAULT_RATE_LIMIT, RateLimiter, type RateLimit } from './http/ratelimit.js';
import type { Shifted } from './http/shift.js';
import { createStats, type SimStats } from './http/stats.js';
import { BASE_PATH, createSimServer } from './server.js';
import { DEFAULT_SIZE, World, type AuditSettings, type WorldSize } from './world.js';

export { simulatorOptionsSchema, issueSpecSchema } from './options.js';
export { SIGNIN_DELAY_MS } from './audit/stream.js';
export { World, DEFAULT_SIZE } from './world.js';
export { FAULT_KINDS } from './http/faults.js';
export { describeSimCredential } from './credentials.js';
export type { WorldSize, SimCredentials, SimStats, FaultRule, RateLimit, IssueSpec, IssuedCredential, Principal, Shifted, AuditSettings };
export type { FaultKind } from './http/faults.js';
export type { SimLogEntry, PrincipalStats } from './http/stats.js';
export type { SimUser, WorldOptions } from './world.js';
export type { AccessWorld } from './iam/access-world.js';
export type { PolicySpec, OrgMemberSpec, UserGroup, ResourceGroup, IamPolicy } from './iam/types.js';
export type { AuditKind, AuditEntry, AuditStreamHandle } from './audit/streams.js';

export interface SimulatorOptions {
  seed?: number;
  host?: string;
  port?: number;
  size?: Partial<WorldSize>;
  credentials?: Partial<SimCredentials>;
  rateLimit?: RateLimit | false;
  faults?: FaultRule[];
  now?: () => number;
  /** Credentials issued at start, in order; the results are `sim.extraCredentials`. */
  extraCredentials?: IssueSpec[];
  /** Audit-log retention and ageing (see AuditSettings); off by default. */
  audit?: AuditSettings;
}

export interface Simulator {
  url: string;
  world: World;
  stats: SimStats;
  /** The default token (user 0's token `world.credentialTokenId`), user 0's global key, and their `deny`. */
  credentials: SimCredentials;
  /** What `extraCredentials` issued at start, in the same order. */
  extraCredentials: IssuedCredential[];
  /** Creates a credential the server accepts from now on (see IssueSpec). */
  issueCredential(spec: IssueSpec): IssuedCredential;
  /** From now on the credential ('default': the default token and key) gets 403 on these route keys. */
  denyRoutes(credential: IssuedCredential | 'default', routes: string[]): void;
  /** Lifts `denyRoutes`: the credential reads these route keys again from now on. */
  allowRoutes(credential: IssuedCredential | 'default', routes: string[]): void;
  /** What 'shift-listing' faults removed (and added), in order. */
  shifted: Shifted[];
  setFaults(rules: FaultRule[]): void;
  setRateLimit(limit: SimulatorOptions['rateLimit']): void;
  close(): Promise<void>;
}

/** Start a Cloudflare v4 imitation on loopback. Everything (world and faults) follows from `seed`. */
export async function startSimulator(opts: SimulatorOptions = {}): Promise<Simulator> {
  const seed = opts.seed ?? 1;
  const now = opts.now ?? Date.now;
  const credentials: SimCredentials = { ...DEFAULT_CREDENTIALS, ...opts.credentials, deny: [...(opts.credentials?.deny ?? [])] };
  const world = new World(seed, { ...DEFAULT_SIZE, ...opts.size }, credentials.email, now, { audit: opts.audit });
  const store = new CredentialStore(world, credentials, seed, now);
  const extraCredentials = (opts.extraCredentials ?? []).map((spec) => store.issue(spec));
  const stats = createStats();
  const limiter = new RateLimiter(opts.rateLimit === undefined ? DEFAULT_RATE_LIMIT : opts.rateLimit, now);
  const faults = new FaultPlan(opts.faults ?? [], seed);
  const shifted: Shifted[] = [];
  const server = createSimServer({ world, stats, store, limiter, faults, now, shifted });
  // Benchmarks hit us with many keep-alive connections; do not let idle ones block close().
  server.keepAliveTimeout = 5_000;
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}${BASE_PATH}`,
    world, stats, credentials, extraCredentials, shifted,
    issueCredential: (spec) => store.issue(spec),
    denyRoutes: (credential, routes) => store.deny(credential, routes),
    allowRoutes: (credential, routes) => store.allow(credential, routes),
    setFaults: (rules) => faults.reset(rules),
    setRateLimit: (limit) => limiter.set(limit === undefined ? DEFAULT_RATE_LIMIT : limit),
    close: () => new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    }),
  };
}
