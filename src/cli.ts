import { Command, InvalidArgumentError } from 'commander';
import { loggerFor, openApp } from './app.js';
import { demo } from './commands/demo.js';
import { createProgress } from './commands/progress.js';
import { formatOutcomes } from './commands/report.js';
import { runOnce } from './commands/run.js';
import { formatSummary, storeSummary } from './commands/summary.js';
import { ConfigError, loadConfig, secretValues } from './config.js';
import { scrub } from './log.js';
import { runMigrations } from './db/migrate.js';
import { simulatorOptionsSchema, startSimulator } from './simulator/index.js';
import { ALL_KINDS } from './sync/catalog.js';

const print = (s: string) => process.stdout.write(`${s}\n`);

const intArg = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('not an integer');
  return n;
};

async function oneShot(overrides: Record<string, unknown>, streams: string[] | undefined, summary: boolean): Promise<boolean> {
  const config = loadConfig(process.env, overrides);
  const app = await openApp(config, { requireCredentials: true });
  const progress = createProgress(app.ctx.log);
  try {
    const result = await runOnce({ ...app.ctx, progress }, { streams });
    progress.stop();
    print(formatOutcomes(result.outcomes));
    if (summary) print(`\n${formatSummary(await storeSummary(app.ctx.db))}`);
    if (app.psqlHint) print(`\npsql: ${app.psqlHint}`);
    return result.ok;
  } finally {
    progress.stop();
    await app.close();
  }
}

/** Commands are thin: parse, call, print, exit code. */
export function buildCli(): Command {
  const program = new Command('flarewatch')
    .description('Archive Cloudflare audit logs and IAM inventory into Postgres, check it, alert on it.')
    .showHelpAfterError();

  program.command('migrate').description('apply database migrations (under an advisory lock)').action(async () => {
    const config = loadConfig();
    const app = await openApp(config, { migrate: false });
    try {
      await runMigrations(app.databaseUrl);
      print('migrations applied');
    } finally {
      await app.close();
    }
  });

  program
    .command('sync')
    .description(`walk streams once (default: all). Kinds: ${ALL_KINDS.join(', ')}; account kinds also as <kind>:<account id>`)
    .argument('[streams...]', 'stream kinds or names')
    .option('--since <date>', 'first audit-log backfill starts here instead of FLAREWATCH_AUDIT_BACKFILL ago')
    .action(async (streams: string[], o: { since?: string }) => {
      const ok = await oneShot({ 'audit.since': o.since }, streams, false);
      process.exitCode = ok ? 0 : 1;
    });

  program
    .command('run')
    .description('every stream once, then the later stages; non-zero exit if a stream failed')
    .option('--since <date>', 'first audit-log backfill starts here instead of FLAREWATCH_AUDIT_BACKFILL ago')
    .action(async (o: { since?: string }) => {
      const ok = await oneShot({ 'audit.since': o.since }, undefined, true);
      process.exitCode = ok ? 0 : 1;
    });

  program
    .command('simulator')
    .description('serve a simulated Cloudflare API on loopback (for tests, demos, benchmarks)')
    .option('--port <n>', 'port (0 = any free)', intArg, 8787)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--seed <n>', 'world seed', intArg, 1)
    .option('--options <json>', 'more simulator options as JSON (size, rateLimit, faults)', '{}')
    .action(async (o: { port: number; host: string; seed: number; options: string }) => {
      const options = simulatorOptionsSchema.parse({ ...JSON.parse(o.options), port: o.port, host: o.host, seed: o.seed });
      const sim = await startSimulator(options);
      print(`Cloudflare simulator listening at ${sim.url}`);
      print(`  CLOUDFLARE_BASE_URL=${sim.url} CLOUDFLARE_API_TOKEN=${sim.credentials.apiToken}`);
      const stop = () => void sim.close().then(() => process.exit(0));
      process.once('SIGINT', stop).once('SIGTERM', stop);
    });

  program
    .command('demo')
    .description('simulator + embedded PostgreSQL + one full run, then a summary')
    .option('--seed <n>', 'world seed', intArg, 42)
    .action(async (o: { seed: number }) => {
      // The demo prints its own summary; log lines only for warnings unless LOG_LEVEL says otherwise.
      const ok = await demo(loadConfig(process.env, {}, { 'log.level': 'warn' }), { seed: o.seed, print });
      process.exitCode = ok ? 0 : 1;
    });

  return program;
}

export async function main(argv: string[]): Promise<void> {
  try {
    await buildCli().parseAsync(argv);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`flarewatch: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    const log = (() => {
      try {
        return loggerFor(loadConfig());
      } catch {
        return undefined;
      }
    })();
    log?.fatal({ err }, 'flarewatch stopped');
    const secrets = (() => {
      try {
        return secretValues(loadConfig());
      } catch {
        return [];
      }
    })();
    process.stderr.write(`flarewatch: ${scrub((err as Error).message, secrets)}\n`);
    process.exitCode = 1;
  }
}

if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('/src/cli.ts')) await main(process.argv);
