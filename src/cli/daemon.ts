import { Option } from 'commander';
import { type CliKit, durationArg, intArg, print } from './kit.js';

// The daemon keeps its structured log at info (interactive commands default to warnings only).
const DAEMON_LOG = { 'log.level': 'info' };

/** The daemon's processes (`start`, `worker`, `scheduler`) and `status`. */
export function registerDaemon(kit: CliKit): void {
  kit.program
    .command('start')
    .description('the daemon: scheduler + workers in one process (REDIS_URL, or redis-server from the PATH)')
    .option('--concurrency <n>', 'sync jobs at once (default FLAREWATCH_WORKER_CONCURRENCY)', intArg)
    .action(async (o: { concurrency?: number }) => {
      kit.noDemo('start');
      const { startCommand } = await import('../commands/start.js');
      await startCommand(await kit.load({ defaults: DAEMON_LOG, overrides: { 'daemon.concurrency': o.concurrency } }));
    });

  kit.program
    .command('worker')
    .description('take jobs from the queues (needs REDIS_URL); run as many as you like, on any machine')
    .option('--concurrency <n>', 'sync jobs at once (default FLAREWATCH_WORKER_CONCURRENCY)', intArg)
    .action(async (o: { concurrency?: number }) => {
      kit.noDemo('worker');
      const { workerCommand } = await import('../commands/worker.js');
      await workerCommand(await kit.load({ defaults: DAEMON_LOG, overrides: { 'daemon.concurrency': o.concurrency } }));
    });

  kit.program
    .command('scheduler')
    .description('enqueue the cron rounds (needs REDIS_URL); replicas never double a job')
    .action(async () => {
      kit.noDemo('scheduler');
      const { schedulerCommand } = await import('../commands/scheduler.js');
      await schedulerCommand(await kit.load({ defaults: DAEMON_LOG }));
    });

  kit.program
    .command('status')
    .description("each stream's checkpoint, lag and last error; exit 1 when one is failing or lags past --max-lag")
    .option('--json', 'machine-readable')
    // The default shown as the README writes it (2h), not in milliseconds.
    .addOption(new Option('--max-lag <duration>', 'a stream lagging more than this needs attention').argParser(durationArg).default(2 * 3_600_000, '2h'))
    .action(async (o: { json?: boolean; maxLag: number }) => {
      const { statusCommand } = await import('../commands/status.js');
      process.exitCode = await statusCommand(await kit.load(), { json: o.json, maxLagMs: o.maxLag, columns: kit.columns() }, print);
    });
}
