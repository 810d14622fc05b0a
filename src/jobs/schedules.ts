import { and, isNull } from 'drizzle-orm';
import { FlowProducer, type FlowJob, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { createTask, schedule, type ScheduledTask } from 'node-cron';
import type { Context } from '../context.js';
import { accounts, syncState } from '../db/schema/index.js';
import { ALL_KINDS, needsAccounts, planStreams } from '../sync/catalog.js';
import { JOB_CATALOG, type JobName } from './catalog.js';
import { alertsJobId, checksJobId, digestJobId, syncJobId, tickOf } from './ids.js';

export type ScheduleGroup = 'audit' | 'inventory' | 'digest';

export const AUDIT_KINDS = ALL_KINDS.filter((k) => k.includes('audit'));
export const INVENTORY_KINDS = ALL_KINDS.filter((k) => !k.includes('audit'));

export interface TickResult {
  tick: string;
  groups: ScheduleGroup[];
  /** The streams this tick enqueued a sync job for (a replica's duplicate adds are no-ops). */
  streams: string[];
  digest: boolean;
}

export interface SchedulerOptions {
  /** Tests only: a shorter first retry delay than the catalog's. */
  retryDelayMs?: number;
}

/** Completed jobs are kept a day, so a late replica's add of the same id stays a no-op. */
const KEEP = { removeOnComplete: { age: 86_400, count: 5_000 }, removeOnFail: { age: 7 * 86_400 } };

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
  private heartbeat: ScheduledTask | undefined;

  constructor(private readonly ctx: Context, connection: Redis, private readonly opts: SchedulerOptions = {}) {
    const d = ctx.config.daemon;
    const noop = () => undefined;
    this.matchers = {
      audit: createTask(d.auditSchedule, noop),
      inventory: createTask(d.inventorySchedule, noop),
      digest: createTask(d.digestSchedule, noop),
    };
    this.flow = new FlowProducer({ connection });
    this.alerts = new Queue('alerts', { connection });
    // A Redis restart surfaces here as connection errors; ticks fail (logged) or wait for the reconnection.
    const onError = (err: Error) => ctx.log.debug({ err: err.message }, 'scheduler queue connection problem');
    this.flow.on('error', onError);
    this.alerts.on('error', onError);
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

  /** Enqueue what is due at `at` (tests drive this directly). */
  async tick(at: Date, groups: ScheduleGroup[] = this.due(at)): Promise<TickResult> {
    const tick = tickOf(at);
    const streams = await this.streamsFor(groups);
    // Replicas plan from the database at slightly different moments: if an account (or a first walk)
    // appeared in between, a replica's round can hold a stream the other's lacks. Ids keep every
    // (stream, tick) single; an extra stream that can no longer join a started round waits for the next tick.
    if (streams.length) {
      await this.flow.add(this.round(tick, streams)).catch((err: unknown) => this.ctx.log.warn({ tick, err: (err as Error).message }, 'round already enqueued by another replica'));
    }
    const digest = groups.includes('digest');
    if (digest) await this.alerts.add('alerts.digest', { tick }, this.options('alerts.digest', digestJobId(tick)));
    if (streams.length || digest) this.ctx.log.info({ tick, groups, streams: streams.length, digest }, 'tick enqueued');
    return { tick, groups, streams, digest };
  }

  /** Streams of the due groups (within FLAREWATCH_STREAMS), plus any never attempted (a new account, a first start). */
  async streamsFor(groups: ScheduleGroup[]): Promise<string[]> {
    // Account streams fan out over the account list, so selecting one selects `accounts` too (as `sync` does).
    const chosen = this.ctx.config.sync.streams;
    const selection = chosen.length && !chosen.includes('accounts') && needsAccounts(chosen.map((s) => s.split(':', 1)[0]!)) ? [...chosen, 'accounts'] : chosen;
    const selected = (kinds: string[]) => (selection.length ? selection.filter((s) => kinds.includes(s.split(':', 1)[0]!)) : kinds);
    const ids = await this.knownAccountIds();
    // planStreams reads an empty list as "every stream": a group with nothing selected plans nothing.
    const plan = (kinds: string[]) => (kinds.length ? planStreams(kinds, ids) : []);
    const all = plan(selected(ALL_KINDS)).map((j) => j.stream);
    const wanted = new Set<string>();
    if (groups.includes('audit')) for (const j of plan(selected(AUDIT_KINDS))) wanted.add(j.stream);
    if (groups.includes('inventory')) for (const j of plan(selected(INVENTORY_KINDS))) wanted.add(j.stream);
    const attempted = new Set((await this.ctx.db.select({ stream: syncState.stream }).from(syncState)).map((r) => r.stream));
    for (const s of all) if (!attempted.has(s)) wanted.add(s);
    // Account streams need the account list: walk 'accounts' whenever none is known yet.
    if (ids.length === 0 && all.includes('accounts')) wanted.add('accounts');
    return all.filter((s) => wanted.has(s));
  }

  private async knownAccountIds(): Promise<string[]> {
    const rows = await this.ctx.db.select({ id: accounts.id }).from(accounts).where(and(isNull(accounts.deletedAt)));
    const allow = this.ctx.config.cloudflare.accounts;
    return rows.map((r) => r.id).filter((id) => allow.length === 0 || allow.includes(id)).sort();
  }

  private options(name: JobName, jobId: string) {
    const spec = JOB_CATALOG[name];
    const delay = this.opts.retryDelayMs ?? spec.backoff.delay;
    return { jobId, attempts: spec.attempts, backoff: { ...spec.backoff, delay }, ...KEEP };
  }

  private round(tick: string, streams: string[]): FlowJob {
    // A child that fails for good still lets its parent run: checks see what did sync.
    const child = { ignoreDependencyOnFailure: true };
    return {
      name: 'alerts.deliver', queueName: 'alerts', data: { tick }, opts: this.options('alerts.deliver', alertsJobId(tick)),
      children: [{
        name: 'checks.run', queueName: 'checks', data: { tick }, opts: { ...this.options('checks.run', checksJobId(tick)), ...child },
        children: streams.map((stream) => ({
          name: 'sync.stream', queueName: 'sync', data: { stream, tick }, opts: { ...this.options('sync.stream', syncJobId(stream, tick)), ...child },
        })),
      }],
    };
  }

  async close(): Promise<void> {
    await this.heartbeat?.destroy();
    for (const m of Object.values(this.matchers)) await m.destroy();
    await this.flow.close();
    await this.alerts.close();
  }
}
