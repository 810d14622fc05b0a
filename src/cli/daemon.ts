import { schedulerCommand } from '../commands/scheduler.js';
import { startCommand } from '../commands/start.js';
import { statusCommand } from '../commands/status.js';
import { workerCommand } from '../commands/worker.js';
import { type CliKit, durationArg, intArg, print } from './kit.js';

// The daemon keeps its structured log at info (interactive commands default to warnings only).
const DAEMON_LOG = { 'log.level': 'info' };

/** The daemon's processes (`start`, `worker`, `scheduler`) and `status`. */
export function registerDaemon(kit: CliKit): void {
  kit.program
    .command('start')
    .description('the daemon: scheduler + workers in one process (REDIS_URL, or redis-server from the PATH)')
    .option('--concurrency <n>', 'sync jobs at once (default FLAREWATCH_WORKER_CONCURRENCY)', intArg)
    .action((o: { concurrency?: number }) => (kit.noDemo('start'), startCommand(kit.load({ defaults: DAEMON_LOG, overrides: { 'daemon.concurrency': o.concurrency } }))));

  kit.program
    .command('worker')
    .description('take jobs from the queues (needs REDIS_URL); run as many as you like, on any machine')
    .option('--concurrency <n>', 'sync jobs at once (default FLAREWATCH_WORKER_CONCURRENCY)', intArg)
    .action((o: { concurrency?: number }) => (kit.noDemo('worker'), workerCommand(kit.load({ defaults: DAEMON_LOG, overrides: { 'daemon.concurrency': o.concurrency } }))));

  kit.program
    .command('scheduler')
    .description('enqueue the cron rounds (needs REDIS_URL); replicas never double a job')
    .action(() => (kit.noDemo('scheduler'), schedulerCommand(kit.load({ defaults: DAEMON_LOG }))));

  kit.program
    .command('status')
    .description("each stream's checkpoint, lag and last error; exit 1 when one is failing or lags past --max-lag")
    .option('--json', 'machine-readable')
    .option('--max-lag <duration>', 'a stream lagging more than this needs attention', durationArg, 2 * 3_600_000)
    .action(async (o: { json?: boolean; maxLag: number }) => {
      process.exitCode = await statusCommand(kit.load(), { json: o.json, maxLagMs: o.maxLag }, print);
    });
}
