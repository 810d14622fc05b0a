import { FlowProducer, type FlowJob, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createTask, schedule, type ScheduledTask } from 'node-cron';
import type { Context } from '../context.js';
import { syncState } from '../db/schema/index.js';
import { ACCOUNT_STREAMS, AUDIT_KINDS, INVENTORY_KINDS } from '../sync/catalog.js';
import { planBudgetRound } from '../sync/budget-round.js';
import { planInput, planRound } from '../sync/plan.js';
import { JOB_CATALOG, type JobName } from './catalog.js';
import { alertsJobId, checksJobId, digestJobId, hygieneJobId, syncJobId, tickOf, verifyJobId } from './ids.js';
import { KEEP_BY_AGE, roundKeep } from './keep.js';
import { MissedTicks } from './missed-ticks.js';

export type ScheduleGroup = 'audit' | 'inventory' | 'digest' | 'verify' | 'hygiene';

export { AUDIT_KINDS, INVENTORY_KINDS };

const kindOf = (stream: string) => stream.split(':', 1)[0]!;

export interface TickResult {
  tick: string;
  groups: ScheduleGroup[];
  /** The streams this tick enqueued a sync job for (a replica's duplicate adds are no-ops). */
  streams: string[];
  digest: boolean;
  verify: boolean;
  hygiene: boolean;
  /** Groups whose enqueue failed at this tick or a missed one it retried (Postgres or Redis away): caught up at a later tick. */
  failed: ScheduleGroup[];
  /** Earlier ticks this one enqueued (or tried to) because they were missed (an outage, the scheduler down). */
  caughtUp: Array<{ group: ScheduleGroup; tick: string }>;
}

export interface SchedulerOptions {
  /** Tests only: a shorter first retry delay than the catalog's. */
  retryDelayMs?: number;
  /** Tests only: a lower floor of completed jobs kept than KEEP_COMPLETED_MIN, so a round of a few streams outgrows it. */
  keepCompletedMin?: number;
  /** Connection errors of the scheduler's queues (the daemon's watchRedisHealth). */
  onConnectionError?: (err: Error) => void;
}

/**
 * node-cron ticks → BullMQ flows. Each tick is floored to its minute; every job id derives
 * from (job, stream, tick), so any number of scheduler replicas enqueue each job once.
 * A round is a flow: alerts ← checks ← the round's sync jobs (a parent runs once its
 * children are done; a failed sync does not hold the round back).
 */
export class Scheduler {
  private readonly matchers: Record<ScheduleGroup, ScheduledTask>;
  private readonly flow: FlowProducer;
  private readonly alerts: Queue;
  private readonly sync: Queue;
  private readonly checks: Queue;
  private heartbeat: ScheduledTask | undefined;
  private readonly missed: MissedTicks<ScheduleGroup>;

  constructor(private readonly ctx: Context, connection: Redis, private readonly opts: SchedulerOptions = {}) {
    const d = ctx.config.daemon;
    const noop = () => undefined;
    this.matchers = {
      audit: createTask(d.auditSchedule, noop),
      inventory: createTask(d.inventorySchedule, noop),
      digest: createTask(d.digestSchedule, noop),
      verify: createTask(d.verifySchedule, noop),
      hygiene: createTask(d.hygieneSchedule, noop),
    };
    this.missed = new MissedTicks(connection, (g, minute) => this.matchers[g].match(minute));
    this.flow = new FlowProducer({ connection });
    this.alerts = new Queue('alerts', { connection });
    this.sync = new Queue('sync', { connection });
    this.checks = new Queue('checks', { connection });
    // A Redis restart surfaces here as connection errors; ticks fail (logged) or wait for the reconnection.
    const onError = opts.onConnectionError ?? ((err: Error) => ctx.log.debug({ err: err.message }, 'scheduler queue connection problem'));
    this.flow.on('error', onError);
    this.alerts.on('error', onError);
    this.sync.on('error', onError);
    this.checks.on('error', onError);
  }

  /** The groups whose cron expression matches the minute `at` falls in. */
  due(at: Date): ScheduleGroup[] {
    const minute = new Date(tickOf(at));
    return (Object.keys(this.matchers) as ScheduleGroup[]).filter((g) => this.matchers[g].match(minute));
  }

  /** Run the schedule every minute, plus one tick now (which also picks up never-walked streams). */
  async start(): Promise<void> {
    await this.tick(this.ctx.now());
    this.heartbeat = schedule('* * * * *', (c) => this.tick(c.date).then(() => undefined, (err: unknown) => this.ctx.log.error({ err }, 'tick failed')), {
      name: 'flarewatch-scheduler', noOverlap: true,
    });
  }

  /**
   * Enqueue what is due at `at` (tests drive this directly; `only`: these groups, no catching up),
   * and any earlier due tick that was never enqueued (ids derive from that tick, so a replica that did enqueue it makes this a no-op).
   * Each group enqueues on its own: Postgres away loses the round of streams, not the digest.
   */
  async tick(at: Date, only?: ScheduleGroup[]): Promise<TickResult> {
    const tick = tickOf(at);
    const groups = only ?? this.due(at);
    // Groups named by the caller (tests) run as told, without catching up.
    const others = only ? [] : (Object.keys(this.matchers) as ScheduleGroup[]).filter((g) => !groups.includes(g));
    const caughtUp = (await this.missed.before(at, others).catch((err: unknown) => {
      this.ctx.log.warn({ tick, err: (err as Error).message }, 'could not read the last ticks enqueued; missed ticks are caught up later');
      return [];
    }));
    const byTick = new Map<string, ScheduleGroup[]>();
    for (const m of caughtUp) byTick.set(m.tick, [...(byTick.get(m.tick) ?? []), m.group]);
    const failed: ScheduleGroup[] = [];
    for (const [t, gs] of [...byTick].sort(([a], [b]) => a.localeCompare(b))) {
      const done = await this.enqueue(t, gs, false);
      failed.push(...done.failed);
      if (done.failed.length === 0) this.ctx.log.info({ tick: t, groups: gs }, 'missed tick caught up');
    }
    const now = await this.enqueue(tick, groups, true);
    return { tick, groups, ...now, failed: [...new Set([...failed, ...now.failed])], caughtUp };
  }

  /** One tick's groups, each on its own; `discover`: also walk never-attempted streams (every live tick does). */
  private async enqueue(tick: string, groups: ScheduleGroup[], discover: boolean) {
    const failed: ScheduleGroup[] = [];
    const attempt = async (gs: ScheduleGroup[], work: () => Promise<unknown>) => {
      try {
        await work();
        await this.missed.record(tick, gs).catch(() => undefined);
        return true;
      } catch (err) {
        failed.push(...gs);
        this.ctx.log.error({ tick, groups: gs, err: (err as Error).message }, 'could not enqueue this tick\'s jobs; caught up once it can be');
        return false;
      }
    };
    const digest = groups.includes('digest') && (await attempt(['digest'], () => this.alerts.add('alerts.digest', { tick }, this.options('alerts.digest', digestJobId(tick)))));
    const verify = groups.includes('verify') && (await attempt(['verify'], () => this.sync.add('audit.verify', { tick }, this.options('audit.verify', verifyJobId(tick)))));
    const hygiene = groups.includes('hygiene') && (await attempt(['hygiene'], () => this.checks.add('remediation.hygiene', { tick }, this.options('remediation.hygiene', hygieneJobId(tick)))));
    let streams: string[] = [];
    const streamGroups = groups.filter((g) => g === 'audit' || g === 'inventory');
    if (streamGroups.length || discover) await attempt(streamGroups, async () => (streams = await this.enqueueRound(tick, streamGroups)));
    if (streams.length || digest || verify || hygiene) this.ctx.log.info({ tick, groups, streams: streams.length, digest, verify, hygiene }, 'tick enqueued');
    return { streams, digest, verify, hygiene, failed };
  }

  private async enqueueRound(tick: string, groups: ScheduleGroup[]): Promise<string[]> {
    // Shaped to each rate-limit budget's share (src/sync/budget-plan.ts): audit first, inventory by priority.
    const { wanted, all } = await this.candidates(groups);
    const { streams } = await planBudgetRound(this.ctx, wanted, { at: new Date(tick), inventory: groups.includes('inventory') });
    // Replicas plan from the database at slightly different moments: if an account (or a first walk)
    // appeared in between, a replica's round can hold a stream the other's lacks. Ids keep every
    // (stream, tick) single; an extra stream that can no longer join a started round waits for the next tick.
    if (streams.length) {
      await this.flow.add(this.round(tick, streams, all)).catch((err: unknown) => this.ctx.log.warn({ tick, err: (err as Error).message }, 'round already enqueued by another replica'));
    }
    return streams;
  }

  /** Streams of the due groups (within FLAREWATCH_STREAMS), plus any never attempted (a new account, a first start). */
  async streamsFor(groups: ScheduleGroup[]): Promise<string[]> {
    return (await this.candidates(groups)).wanted;
  }

  /** `wanted`: the due groups' streams; `all`: how many streams the selection holds in every group (sizes what a round keeps). */
  private async candidates(groups: ScheduleGroup[]): Promise<{ wanted: string[]; all: number }> {
    const selection = this.ctx.config.sync.streams;
    const all = planRound(await planInput(this.ctx, selection)).streams;
    // Account streams fan out over what the credentials reach: a selection of account kinds still discovers accounts.
    const discovers = selection.length === 0 || selection.some((s) => ACCOUNT_STREAMS[kindOf(s)] !== undefined);
    const discovery = discovers ? planRound(await planInput(this.ctx, []), 'accounts').streams : [];
    const candidates = [...new Set([...discovery, ...all])];
    const wanted = new Set<string>();
    if (groups.includes('audit')) for (const s of candidates) if (AUDIT_KINDS.includes(kindOf(s))) wanted.add(s);
    if (groups.includes('inventory')) for (const s of candidates) if (INVENTORY_KINDS.includes(kindOf(s))) wanted.add(s);
    const attempted = new Set((await this.ctx.db.select({ stream: syncState.stream }).from(syncState)).map((r) => r.stream));
    for (const s of candidates) if (!attempted.has(s)) wanted.add(s);
    return { wanted: candidates.filter((s) => wanted.has(s)), all: candidates.length };
  }

  /** `keep`: a round's retention, or by age alone for the jobs beside the rounds. */
  private options(name: JobName, jobId: string, keep: ReturnType<typeof roundKeep> | typeof KEEP_BY_AGE = KEEP_BY_AGE) {
    const spec = JOB_CATALOG[name];
    const delay = this.opts.retryDelayMs ?? spec.backoff.delay;
    return { jobId, attempts: spec.attempts, backoff: { ...spec.backoff, delay }, ...keep };
  }

  /** `all`: the selection's stream count, so the round's completed jobs outlive any later round's trimming (src/jobs/keep.ts). */
  private round(tick: string, streams: string[], all: number): FlowJob {
    // A child that fails for good still lets its parent run: checks see what did sync.
    const child = { ignoreDependencyOnFailure: true };
    const keep = roundKeep(Math.max(all, streams.length), this.opts.keepCompletedMin);
    return {
      name: 'alerts.deliver', queueName: 'alerts', data: { tick }, opts: this.options('alerts.deliver', alertsJobId(tick), keep),
      children: [{
        name: 'checks.run', queueName: 'checks', data: { tick }, opts: { ...this.options('checks.run', checksJobId(tick), keep), ...child },
        children: streams.map((stream) => ({
          name: 'sync.stream', queueName: 'sync', data: { stream, tick }, opts: { ...this.options('sync.stream', syncJobId(stream, tick), keep), ...child },
        })),
      }],
    };
  }

  async close(): Promise<void> {
    await this.heartbeat?.destroy();
    for (const m of Object.values(this.matchers)) await m.destroy();
    await this.flow.close();
    await this.alerts.close();
    await this.sync.close();
    await this.checks.close();
  }
}
