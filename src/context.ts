import type { Config } from './config.js';
import type { CredentialAccess } from './credentials/types.js';
import type { Db } from './db/client.js';
import type { Logger } from './log.js';
import type { Metrics } from './ops/metric-set.js';

/** Everything a job needs, passed explicitly: no module-level singletons. */
export interface Context {
  db: Db;
  log: Logger;
  config: Config;
  /** Every configured credential, in configuration order, each with its own paced access. */
  credentials: CredentialAccess[];
  signal?: AbortSignal;
  now: () => Date;
  /** Where long walks report progress (a progress bar on a TTY, periodic log lines otherwise). */
  progress?: ProgressSink;
  /** How wide the reader's terminal is: tables fit it. Unset: tables in full (piped output, `--wide`, the daemon). */
  columns?: number;
  /** The daemon's Prometheus counters (absent in one-shot commands). */
  metrics?: Metrics;
}

export interface WalkProgress {
  stream: string;
  entries: number;
  pages: number;
  windowSince: string;
  windowBefore: string;
  /** Event time of the last entry stored: how far through the window the walk is. */
  position?: string;
  done?: boolean;
}

export interface ProgressSink {
  update(p: WalkProgress): void;
}
