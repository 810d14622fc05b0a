import { z } from 'zod';

/**
 * Every job the daemon knows: name → payload schema → queue and queue options. The
 * worker refuses to start unless each name here has exactly one handler (handlers.ts).
 * BullMQ reads `attempts` and `backoff`; `timeoutMs` is ours: the job's signal is aborted
 * after it, the walk stops at the next request, and the queue retries it.
 */
export const QUEUES = ['sync', 'checks', 'alerts'] as const;
export type QueueName = (typeof QUEUES)[number];

export interface JobSpec<S extends z.ZodType = z.ZodType> {
  queue: QueueName;
  payload: S;
  attempts: number;
  backoff: { type: 'exponential' | 'fixed'; delay: number };
  /** undefined: use the config's sync job timeout. */
  timeoutMs?: number;
}

const spec = <S extends z.ZodType>(s: JobSpec<S>) => s;

/** A round's time: the cron tick (to the minute) that enqueued the jobs. */
const tick = z.string().datetime();

export const JOB_CATALOG = {
  /** Walk one stream (`runStream`); `skipped` (another walker holds its lock) is a success. */
  'sync.stream': spec({
    queue: 'sync',
    payload: z.object({ stream: z.string().min(1), tick }),
    attempts: 5,
    backoff: { type: 'exponential', delay: 30_000 },
  }),
  /** Retention, then rule checks, after a round of syncs. */
  'checks.run': spec({
    queue: 'checks',
    payload: z.object({ tick }),
    attempts: 3,
    backoff: { type: 'exponential', delay: 10_000 },
    timeoutMs: 15 * 60_000,
  }),
  /** Alert delivery after checks. */
  'alerts.deliver': spec({
    queue: 'alerts',
    payload: z.object({ tick }),
    attempts: 5,
    backoff: { type: 'exponential', delay: 10_000 },
    timeoutMs: 10 * 60_000,
  }),
  /** Daily: verify the audit archive against Cloudflare within a request budget, repairing gaps (`audit verify`). */
  'audit.verify': spec({
    queue: 'sync',
    payload: z.object({ tick }),
    attempts: 3,
    backoff: { type: 'exponential', delay: 60_000 },
    timeoutMs: 2 * 3_600_000,
  }),
  /** The daily digest of alerts for sinks in digest mode. */
  'alerts.digest': spec({
    queue: 'alerts',
    payload: z.object({ tick }),
    attempts: 5,
    backoff: { type: 'exponential', delay: 60_000 },
    timeoutMs: 10 * 60_000,
  }),
  /** Hygiene policies on their own schedule (FLAREWATCH_SCHEDULE_HYGIENE), one run at a time across processes, then delivery of their alerts. */
  'remediation.hygiene': spec({
    queue: 'checks',
    payload: z.object({ tick }),
    attempts: 3,
    backoff: { type: 'exponential', delay: 60_000 },
    timeoutMs: 30 * 60_000,
  }),
} satisfies Record<string, JobSpec>;

export type JobName = keyof typeof JOB_CATALOG;
export type JobPayload<N extends JobName> = z.infer<(typeof JOB_CATALOG)[N]['payload']>;
export const JOB_NAMES = Object.keys(JOB_CATALOG) as JobName[];

export class CatalogError extends Error {
  constructor(readonly problems: string[]) {
    super(`job catalog and handlers disagree:\n  ${problems.join('\n  ')}`);
    this.name = 'CatalogError';
  }
}

/** Each catalog name has exactly one handler, and no handler is for a name the catalog lacks. */
export function checkHandlers(names: readonly string[], registered: ReadonlyArray<readonly [string, unknown]>): void {
  const problems: string[] = [];
  for (const name of names) {
    const n = registered.filter(([r]) => r === name).length;
    if (n === 0) problems.push(`${name}: no handler`);
    if (n > 1) problems.push(`${name}: ${n} handlers`);
  }
  for (const [r] of registered) if (!names.includes(r)) problems.push(`${r}: handler for a job the catalog does not know`);
  if (problems.length) throw new CatalogError([...new Set(problems)]);
}
