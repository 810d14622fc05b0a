import { DAY_MS, hash32, hex, rngFor, type Rng } from '../prng.js';

/**
 * One audit stream: N generated entries that exist only as a formula of (seed, stream, i), merged with a
 * small sorted array of appended entries. Order is (time, id) ascending; descending is its exact reverse.
 *
 * time(i) is monotone non-decreasing, so a [since, before) window maps to an index range by binary search,
 * and any position in the merged window is found in O(log N + appended) — memory stays flat at 1M entries.
 */

export interface EntryCodec<E> {
  /** Build generated entry i. Pure: the rng is seeded from (seed, stream, i). */
  generate(rng: Rng, i: number, ms: number, id: string): E;
  /** Build an appended entry from a partial (time already resolved). */
  fromPartial(rng: Rng, partial: Record<string, unknown>, ms: number, id: string): E;
  /** id for a generated entry; `prefix` is shared by entries of one second, `rank` orders them. */
  makeId(prefix: string, rank: number, rng: Rng): string;
  randomId(rng: Rng): string;
  isSignin(e: E): boolean;
}

export interface AppendedEntry<E> { ms: number; id: string; visibleAt: number; entry: E }
export interface Key { ms: number; id: string }

export const SIGNIN_DELAY_MS = 90_000;

// Ids are hex/dashes, so appending '~' turns "<= key" into "< key'".
const afterKey = (k: Key): Key => ({ ms: k.ms, id: `${k.id}~` });

function cmp(a: Key, b: Key): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

export class LazyAuditStream<E> {
  private readonly startSec: number;
  private readonly spanSec: number;
  private appended: AppendedEntry<E>[] = [];
  private appendCounter = 0;
  /** Entries with a key <= floor were dropped (dropOldest / ageOutPerRequest). */
  private floor: Key | undefined;

  constructor(
    private readonly seedKey: string,
    readonly size: number,
    auditDays: number,
    endMs: number,
    private readonly codec: EntryCodec<E>,
    private readonly retentionMs: () => number | undefined = () => undefined,
  ) {
    this.spanSec = Math.max(1, Math.floor((auditDays * DAY_MS) / 1000));
    this.startSec = Math.floor(endMs / 1000) - this.spanSec;
  }

  /** Every third cluster of three entries shares one timestamp, so ties exist and straddle page edges. */
  private slot(i: number): number {
    const cluster = Math.floor(i / 3);
    return hash32(this.seedKey, 'tie', cluster) % 3 === 0 ? cluster * 3 : i;
  }

  timeSec(i: number): number {
    return this.startSec + Math.floor((this.slot(i) * this.spanSec) / this.size);
  }

  /** First generated index whose time (in ms) is >= ms. */
  lowerBoundMs(ms: number): number {
    let lo = 0, hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.timeSec(mid) * 1000 < ms) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  id(i: number): string {
    const sec = this.timeSec(i);
    const rank = i - this.lowerBoundMs(sec * 1000);
    const prefix = hex(rngFor(this.seedKey, 'sec', sec), 8);
    return this.codec.makeId(prefix, rank, rngFor(this.seedKey, 'id', i));
  }

  generated(i: number): E {
    const ms = this.timeSec(i) * 1000;
    return this.codec.generate(rngFor(this.seedKey, 'entry', i), i, ms, this.id(i));
  }

  /** Number of generated entries with key < key (ids within one second increase with i). */
  private lazyCountLess(key: Key): number {
    let lo = this.lowerBoundMs(key.ms), hi = this.lowerBoundMs(key.ms + 1);
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp({ ms: this.timeSec(mid) * 1000, id: this.id(mid) }, key) < 0) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  append(partials: Array<Record<string, unknown> & { time: Date | string | number }>, now: number, visibleAt?: number): E[] {
    const added: E[] = [];
    for (const partial of partials) {
      const ms = new Date(partial.time).getTime();
      if (Number.isNaN(ms)) throw new Error(`invalid time ${String(partial.time)}`);
      const rng = rngFor(this.seedKey, 'append', this.appendCounter++);
      const { time: _time, ...rest } = partial;
      const id = typeof rest.id === 'string' ? rest.id : this.codec.randomId(rng);
      const entry = this.codec.fromPartial(rng, rest, ms, id);
      const visible = visibleAt ?? (this.codec.isSignin(entry) ? Math.max(ms + SIGNIN_DELAY_MS, 0) : now);
      this.appended.push({ ms, id, visibleAt: visible, entry });
      added.push(entry);
    }
    this.appended.sort(cmp);
    return added;
  }

  /**
   * The merged window [sinceMs, beforeMs) as Cloudflare serves it at time `at`: entries published by `at`,
   * minus what retention and dropOldest removed (`raw` ignores those two, for `dropped()`).
   */
  view(sinceMs: number, beforeMs: number, at: number, raw = false): StreamView<E> {
    const cut = this.retentionMs();
    const since = raw || cut === undefined ? sinceMs : Math.max(sinceMs, at - cut);
    const floor = raw ? undefined : this.floor;
    // The floor is a (time, id) key, so it cuts through an instant at the id it stopped on.
    const lo = Math.max(this.lowerBoundMs(since), floor ? this.lazyCountLess(afterKey(floor)) : 0);
    const hi = Math.max(lo, this.lowerBoundMs(beforeMs));
    const extra = this.appended.filter((a) => a.visibleAt <= at && a.ms >= since && a.ms < beforeMs && (!floor || cmp(a, floor) > 0));
    return new StreamView(this, lo, hi, extra, (k) => Math.min(hi, Math.max(lo, this.lazyCountLess(k))) - lo);
  }

  /** Entries published by `at` (generated ones always are), whether or not still served. */
  countVisible(at: number): number {
    return this.size + this.appended.filter((a) => a.visibleAt <= at).length;
  }

  /**
   * Drops the n oldest entries still served at `at`, as Cloudflare's retention does while a walk runs.
   * An index offset (the key of the last dropped entry), never a list: flat memory at any size.
   */
  dropOldest(n: number, at: number): number {
    if (n <= 0) return 0;
    const view = this.view(-Infinity, Infinity, at);
    const k = Math.min(n, view.total);
    if (k > 0) this.floor = view.keyAt(k - 1);
    return k;
  }

  /** Published entries no longer served (retention or dropOldest); they are always the oldest ones. */
  droppedCount(at: number): number {
    return this.countVisible(at) - this.view(-Infinity, Infinity, at).total;
  }

  key(i: number): Key { return { ms: this.timeSec(i) * 1000, id: this.id(i) }; }
}

export class StreamView<E> {
  readonly total: number;
  private readonly ranks: number[];

  constructor(
    private readonly stream: LazyAuditStream<E>,
    private readonly lo: number,
    hi: number,
    private readonly extra: AppendedEntry<E>[],
    private readonly lazyLess: (k: Key) => number,
  ) {
    this.total = hi - lo + extra.length;
    // Merged rank of each appended entry = its index among appended + generated entries before it.
    this.ranks = extra.map((a, j) => j + lazyLess(a));
  }

  /** Entry at ascending position p (0-based) of the merged window. */
  at(p: number): E {
    let before = 0;
    for (let j = 0; j < this.ranks.length; j++) {
      const r = this.ranks[j]!;
      if (r === p) return this.extra[j]!.entry;
      if (r < p) before++;
      else break;
    }
    return this.stream.generated(this.lo + p - before);
  }

  /** (time, id) of the entry at ascending position p, without building the entry. */
  keyAt(p: number): Key {
    let before = 0;
    for (let j = 0; j < this.ranks.length; j++) {
      const r = this.ranks[j]!;
      if (r === p) return { ms: this.extra[j]!.ms, id: this.extra[j]!.id };
      if (r < p) before++;
      else break;
    }
    return this.stream.key(this.lo + p - before);
  }

  /** Ascending position of the first entry with key > key (inclusive=false: key >= key). */
  positionAfter(key: Key, inclusive: boolean): number {
    const probe = inclusive ? afterKey(key) : key;
    let extraLess = 0;
    for (const a of this.extra) if (cmp(a, probe) < 0) extraLess++;
    return this.lazyLess(probe) + extraLess;
  }

  *iterate(from: number, direction: 'asc' | 'desc'): Generator<{ entry: E; pos: number }> {
    if (direction === 'asc') for (let p = from; p < this.total; p++) yield { entry: this.at(p), pos: p };
    else for (let p = from; p < this.total; p++) yield { entry: this.at(this.total - 1 - p), pos: p };
  }
}
