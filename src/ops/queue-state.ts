// Whether each queue is paused. A pause is kept in Redis and outlives every process, and a paused
// queue looks healthy from outside (no failures, no errors), so readiness and the metrics say it.
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUES } from '../jobs/catalog.js';

export interface QueuePauses {
  /** Each queue: true while paused. */
  paused(): Promise<Record<string, boolean>>;
  close(): Promise<void>;
}

export function queuePauses(connection: Redis): QueuePauses {
  const queues = QUEUES.map((name) => new Queue(name, { connection }));
  for (const q of queues) q.on('error', () => undefined);
  return {
    async paused() {
      const states = await Promise.all(queues.map(async (q) => [q.name, await q.isPaused()] as const));
      return Object.fromEntries(states);
    },
    async close() {
      await Promise.all(queues.map((q) => q.close()));
    },
  };
}
