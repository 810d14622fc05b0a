import { Writable } from 'node:stream';
import { credentialAccesses } from '../../src/credentials/access.js';
import { type Config, loadConfig, secretValues } from '../../src/config.js';
import type { CredentialEntry } from '../../src/config/credentials.js';
import type { Context } from '../../src/context.js';
import { createLogger } from '../../src/log.js';
import type { Simulator } from '../../src/simulator/index.js';
import type { TestDatabase } from './database.js';

export interface TestContext extends Context {
  /** Every log line written, as JSON text, for assertions and secret scans. */
  logLines: string[];
}

/**
 * A Context wired to a test database and a simulator, logging into memory: with the simulator's
 * default token as the `default` credential, or with `credentials` (a cloudflare.credentials list).
 */
export function testContext(db: TestDatabase, sim: Pick<Simulator, 'url' | 'credentials'>, env: Record<string, string> = {}, credentials?: CredentialEntry[]): TestContext {
  const config: Config = loadConfig(
    {
      CLOUDFLARE_BASE_URL: sim.url,
      CLOUDFLARE_API_TOKEN: credentials ? '' : sim.credentials.apiToken,
      DATABASE_URL: db.url,
      FLAREWATCH_MAX_RETRIES: '3',
      LOG_LEVEL: 'debug',
      ...env,
    },
    credentials ? { 'cloudflare.credentials': credentials } : {},
  );
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  const log = createLogger({ level: 'debug', format: 'json', secrets: secretValues(config), destination: sink });
  return { db: db.db, log, config, credentials: credentialAccesses(config), now: () => new Date(), logLines };
}
