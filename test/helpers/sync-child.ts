/**
 * A sync in a process of its own, for crash tests: `node --import tsx test/helpers/sync-child.ts <streams...>`.
 * Configured from the environment (DATABASE_URL, CLOUDFLARE_BASE_URL, CLOUDFLARE_API_TOKEN, ...) exactly like
 * `flarewatch sync`, minus the progress bar and the later stages. Prints the outcomes as one JSON line;
 * exit code 0 only when every stream succeeded.
 */
import { openApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { syncAll } from '../../src/sync/sync-all.js';

const app = await openApp(loadConfig(process.env), { migrate: false, requireCredentials: true });
try {
  const outcomes = await syncAll(app.ctx, { streams: process.argv.slice(2) });
  const summary = outcomes.map((o) => ({ stream: o.stream, status: o.status, error: o.status === 'failed' ? o.error.message : undefined }));
  process.stdout.write(`${JSON.stringify(summary)}\n`);
  process.exitCode = outcomes.every((o) => o.status === 'succeeded') ? 0 : 1;
} finally {
  await app.close();
}
