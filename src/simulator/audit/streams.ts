import { PERMISSION_GROUPS, ROLES } from '../catalog.js';
import type { WorldSize, WorldView } from '../world-view.js';
import type { ActivityContext } from './activities.js';
import { v1Codec, v2Codec, type V1Entry, type V2Entry } from './entries.js';
import { LazyAuditStream } from './stream.js';

export type AuditKind = 'user-v1' | 'account-v1' | 'account-v2';
export type AuditEntry = V1Entry | V2Entry;
export type AppendInput = Record<string, unknown> & { time: Date | string };

/**
 * What tests get from world.auditStream(): counts, a lazy walk and appends, never an array of everything.
 * count() and entries() are what Cloudflare still serves (after retention and dropOldest); dropped entries
 * are reachable through droppedCount() and dropped().
 */
export interface AuditStreamHandle {
  count(): number;
  entries(): Generator<AuditEntry>;
  append(entries: AppendInput[], opts?: { visibleAt?: number }): AuditEntry[];
  /** Drops the n oldest entries still served (as ageing-out does); returns how many were dropped. */
  dropOldest(n: number): number;
  /** Entries published but no longer served (retention or dropOldest). */
  droppedCount(): number;
  /** Those entries, oldest first, generated lazily. */
  dropped(): Generator<AuditEntry>;
  /** The underlying stream, for the HTTP layer. */
  stream: LazyAuditStream<AuditEntry>;
}

export class AuditStreams {
  private readonly cache = new Map<string, LazyAuditStream<AuditEntry>>();

  constructor(private readonly seed: number, private readonly size: WorldSize, private readonly endMs: number,
    private readonly now: () => number, private readonly world: WorldView) {
    // Built eagerly (streams hold no entries) so later mutations of members/tokens never change history.
    this.get('user-v1');
    for (const u of world.users.slice(1)) this.get('user-v1', u.user.id);
    for (const a of world.accounts) { this.get('account-v1', a.id); this.get('account-v2', a.id); }
  }

  /** For 'user-v1', `scopeId` is a user id (undefined or user 0's id: the owner's stream); otherwise an account id. */
  get(kind: AuditKind, scopeId?: string): LazyAuditStream<AuditEntry> | undefined {
    const scope = kind === 'user-v1' && scopeId === this.world.users[0]?.user.id ? undefined : scopeId;
    const key = `${kind}:${scope ?? ''}`;
    let stream = this.cache.get(key);
    if (!stream) {
      stream = this.build(kind, scope);
      if (stream) this.cache.set(key, stream);
    }
    return stream;
  }

  handle(kind: AuditKind, scopeId?: string): AuditStreamHandle {
    const stream = this.get(kind, scopeId);
    if (!stream) throw new Error(`no audit stream ${kind} ${scopeId ?? ''}`);
    const now = this.now;
    return {
      stream,
      count: () => stream.view(-Infinity, Infinity, now()).total,
      *entries() {
        const view = stream.view(-Infinity, Infinity, now());
        for (const { entry } of view.iterate(0, 'asc')) yield entry;
      },
      append: (entries, opts) => stream.append(entries, now(), opts?.visibleAt),
      dropOldest: (n) => stream.dropOldest(n, now()),
      droppedCount: () => stream.droppedCount(now()),
      *dropped() {
        const at = now();
        const n = stream.droppedCount(at);
        const view = stream.view(-Infinity, Infinity, at, true);
        for (let p = 0; p < n; p++) yield view.at(p);
      },
    };
  }

  private build(kind: AuditKind, scopeId?: string): LazyAuditStream<AuditEntry> | undefined {
    const retention = () => this.world.audit.retentionMs;
    const days = this.size.auditDays;
    if (kind === 'user-v1' && scopeId !== undefined) return this.buildUser(scopeId, retention);
    const account = kind === 'user-v1' ? this.world.accounts[0] : scopeId ? this.world.account(scopeId) : undefined;
    if (kind !== 'user-v1' && !account) return undefined;
    const ctx = this.context(account?.id ?? '', account?.name ?? '', kind === 'user-v1');
    const key = `${this.seed}:${kind}:${scopeId ?? 'user'}`;
    if (kind === 'account-v2') return new LazyAuditStream<AuditEntry>(key, this.size.accountAuditEntries, days, this.endMs, v2Codec(ctx), retention);
    const n = kind === 'user-v1' ? this.size.userAuditEntries : this.size.accountAuditV1Entries;
    const owner = kind === 'user-v1' ? this.world.user.id : account!.id;
    return new LazyAuditStream<AuditEntry>(key, n, days, this.endMs, v1Codec(ctx, owner), retention);
  }

  /** An extra user's own /user/audit_logs: its actions, its tokens, the zones of its accounts. */
  private buildUser(userId: string, retention: () => number | undefined): LazyAuditStream<AuditEntry> | undefined {
    const u = this.world.userById(userId);
    if (!u) return undefined;
    const account = this.world.account(u.accountIds[0] ?? '');
    const zones = u.accountIds.flatMap((id) => this.world.zones.get(id) ?? []);
    const ctx: ActivityContext = {
      ...this.context(account?.id ?? '', account?.name ?? '', true),
      actors: [{ id: u.user.id, email: u.user.email }], zones: zones.length ? zones : this.world.allZones(),
      tokens: u.tokens.length ? u.tokens.map((t) => ({ id: t.id, name: t.name })) : [{ id: u.user.id, name: 'flarewatch read-only' }],
    };
    return new LazyAuditStream<AuditEntry>(`${this.seed}:user-v1:${userId}`, this.size.extraUserAuditEntries, this.size.auditDays,
      this.endMs, v1Codec(ctx, userId), retention);
  }

  /** Snapshot of who/what the generated entries talk about, taken once so entries stay a pure function of i. */
  private context(accountId: string, accountName: string, userLevel: boolean): ActivityContext {
    const w = this.world;
    const members = accountId ? w.members(accountId).filter((m) => m.status === 'accepted') : [];
    const actors = userLevel || members.length === 0 ? [{ id: w.user.id, email: w.user.email }]
      : members.slice(0, 6).map((m) => ({ id: m.user.id, email: m.user.email }));
    const tokens = (accountId ? w.accountTokens(accountId) : w.userTokens).map((t) => ({ id: t.id, name: t.name }));
    return {
      accountId, accountName, zones: accountId ? w.zones.get(accountId) ?? w.allZones() : w.allZones(), actors,
      tokens: tokens.length ? tokens : [{ id: w.credentialTokenId, name: 'flarewatch read-only' }],
      groups: PERMISSION_GROUPS.slice(0, 12).map((g) => ({ id: g.id, name: g.name })), roles: ROLES.map((r) => r.name),
    };
  }
}
