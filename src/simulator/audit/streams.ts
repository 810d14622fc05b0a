import { PERMISSION_GROUPS, ROLES } from '../catalog.js';
import type { World, WorldSize } from '../world.js';
import type { ActivityContext } from './activities.js';
import { v1Codec, v2Codec, type V1Entry, type V2Entry } from './entries.js';
import { LazyAuditStream } from './stream.js';

export type AuditKind = 'user-v1' | 'account-v1' | 'account-v2';
export type AuditEntry = V1Entry | V2Entry;
export type AppendInput = Record<string, unknown> & { time: Date | string };

/** What tests get from world.auditStream(): counts, a lazy walk and appends, never an array of everything. */
export interface AuditStreamHandle {
  count(): number;
  entries(): Generator<AuditEntry>;
  append(entries: AppendInput[], opts?: { visibleAt?: number }): AuditEntry[];
  /** The underlying stream, for the HTTP layer. */
  stream: LazyAuditStream<AuditEntry>;
}

export class AuditStreams {
  private readonly cache = new Map<string, LazyAuditStream<AuditEntry>>();

  constructor(private readonly seed: number, private readonly size: WorldSize, private readonly endMs: number,
    private readonly now: () => number, private readonly world: World) {
    // Built eagerly (streams hold no entries) so later mutations of members/tokens never change history.
    this.get('user-v1');
    for (const a of world.accounts) { this.get('account-v1', a.id); this.get('account-v2', a.id); }
  }

  get(kind: AuditKind, accountId?: string): LazyAuditStream<AuditEntry> | undefined {
    const key = `${kind}:${accountId ?? ''}`;
    let stream = this.cache.get(key);
    if (!stream) {
      stream = this.build(kind, accountId);
      if (stream) this.cache.set(key, stream);
    }
    return stream;
  }

  handle(kind: AuditKind, accountId?: string): AuditStreamHandle {
    const stream = this.get(kind, accountId);
    if (!stream) throw new Error(`no audit stream ${kind} ${accountId ?? ''}`);
    const now = this.now;
    return {
      stream,
      count: () => stream.countVisible(now()),
      *entries() {
        const view = stream.view(-Infinity, Infinity, now());
        for (const { entry } of view.iterate(0, 'asc')) yield entry;
      },
      append: (entries, opts) => stream.append(entries, now(), opts?.visibleAt),
    };
  }

  private build(kind: AuditKind, accountId?: string): LazyAuditStream<AuditEntry> | undefined {
    const account = kind === 'user-v1' ? this.world.accounts[0] : accountId ? this.world.account(accountId) : undefined;
    if (kind !== 'user-v1' && !account) return undefined;
    const ctx = this.context(account?.id ?? '', account?.name ?? '', kind === 'user-v1');
    const key = `${this.seed}:${kind}:${accountId ?? 'user'}`;
    const days = this.size.auditDays;
    if (kind === 'account-v2') return new LazyAuditStream<AuditEntry>(key, this.size.accountAuditEntries, days, this.endMs, v2Codec(ctx));
    const n = kind === 'user-v1' ? this.size.userAuditEntries : this.size.accountAuditV1Entries;
    const owner = kind === 'user-v1' ? this.world.user.id : account!.id;
    return new LazyAuditStream<AuditEntry>(key, n, days, this.endMs, v1Codec(ctx, owner));
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
