// The last tick each schedule enqueued, kept in Redis beside the queues, so that a tick lost to an
// outage (Postgres or Redis away at that minute) or to a scheduler that was down is enqueued later.
// Only the latest missed tick of a schedule within HORIZON is caught up: walks are incremental, and
// a daily job missed twice needs running once. With no record yet (first start) nothing is caught up.
import type { Redis } from 'ioredis';
import { tickOf } from './ids.js';

const KEY = (group: string) => `flarewatch:scheduler:last-tick:${group}`;
const MINUTE = 60_000;
/** A daily schedule missed during an outage of up to a day is still caught up. */
export const HORIZON_MS = 26 * 60 * MINUTE;
// Keep the later of the stored and the given tick (ISO strings sort by time): replicas may record out of order.
const RECORD_MAX = `local c = redis.call('GET', KEYS[1]) if not c or c < ARGV[1] then redis.call('SET', KEYS[1], ARGV[1]) end return 1`;

export class MissedTicks<G extends string> {
  // Per group: the minutes after its last tick already searched, so each tick scans only the new minute.
  private readonly searched = new Map<G, { last: string; through: number }>();

  constructor(private readonly redis: Redis, private readonly matches: (group: G, minute: Date) => boolean) {}

  async record(tick: string, groups: G[]): Promise<void> {
    for (const g of groups) await this.redis.eval(RECORD_MAX, 1, KEY(g), tick);
  }

  /** For each group: the latest minute before `at` it was due at and no tick after its last one enqueued. */
  async before(at: Date, groups: G[]): Promise<Array<{ group: G; tick: string }>> {
    if (!groups.length) return [];
    const lasts = await this.redis.mget(groups.map(KEY));
    const now = Date.parse(tickOf(at));
    const out: Array<{ group: G; tick: string }> = [];
    groups.forEach((group, i) => {
      const last = lasts[i];
      if (!last) return;
      const memo = this.searched.get(group);
      const from = Math.max(Date.parse(last), now - HORIZON_MS, memo?.last === last ? memo.through : -Infinity);
      let found: number | undefined;
      for (let t = now - MINUTE; t > from; t -= MINUTE) {
        if (this.matches(group, new Date(t))) {
          found = t;
          break;
        }
      }
      if (found !== undefined) out.push({ group, tick: new Date(found).toISOString() });
      else this.searched.set(group, { last, through: now - MINUTE });
    });
    return out;
  }
}
