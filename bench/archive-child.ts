// Archives one account's v2 audit log in a process of its own and prints its peak RSS,
// so a 100k and a 1M run can be compared without one's garbage inflating the other.
import { connectDatabase } from '../src/db/client.js';
import { syncAll } from '../src/sync/sync-all.js';
import { benchContext } from './lib.js';

const [simUrl, dbUrl] = process.argv.slice(2) as [string, string];
const database = connectDatabase(dbUrl, 4);
const sim = { url: simUrl, token: 'sim-token-0123456789abcdef0123456789abcdef01' } as Parameters<typeof benchContext>[1];
const ctx = benchContext(database, sim, { FLAREWATCH_RATE_LIMIT: 'off', FLAREWATCH_STREAMS: 'account-audit' });
const started = performance.now();
const outcomes = await syncAll(ctx, { streams: ['account-audit'] });
const audit = outcomes.find((o) => o.stream.startsWith('account-audit:'));
await database.close();
process.stdout.write(
  `${JSON.stringify({ ok: audit?.status === 'succeeded', entries: audit && 'counts' in audit ? audit.counts.rowsUpserted : 0, ms: performance.now() - started, maxRssKb: process.resourceUsage().maxRSS })}\n`,
);
