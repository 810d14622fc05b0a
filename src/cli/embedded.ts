import { DEMO_SEED } from '../commands/demo-seed.js';
import { type CliKit, intArg, print } from './kit.js';

/** What runs on this machine alone: the simulator, the demo, psql and the embedded server. */
export function registerEmbedded(kit: CliKit): void {
  kit.program
    .command('simulator')
    .description('serve a simulated Cloudflare API on loopback (for tests, demos, benchmarks)')
    .option('--port <n>', 'port (0 = any free)', intArg, 8787)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--seed <n>', "world seed (the demo's by default: the same organisation)", intArg, DEMO_SEED)
    .option('--options <json>', 'more simulator options as JSON (size, rateLimit, faults, extraCredentials, audit)', '{}')
    .action(async (o: { port: number; host: string; seed: number; options: string }) => {
      const { simulatorCommand } = await import('../commands/simulator.js');
      const { describeSimCredential } = await import('../simulator/index.js');
      const sim = await simulatorCommand(o);
      print(`Cloudflare simulator listening at ${sim.url}`);
      print(`  CLOUDFLARE_BASE_URL=${sim.url} CLOUDFLARE_API_TOKEN=${sim.credentials.apiToken}`);
      for (const c of sim.extraCredentials) print(`  ${describeSimCredential(c)}`);
      const stop = () => void sim.close().then(() => process.exit(0));
      process.once('SIGINT', stop).once('SIGTERM', stop);
    });

  kit.program
    .command('demo')
    .description('simulator + embedded PostgreSQL + one full run, then a summary and what to try next')
    .option('--seed <n>', 'world seed', intArg, DEMO_SEED)
    .option('--new-clock', "generate the world around now again (by default every demo walks the first demo's world, so nothing moves between runs)")
    .action(async (o: { seed: number; newClock?: boolean }) => {
      // The demo prints its own summary; log lines only for warnings unless LOG_LEVEL says otherwise.
      const { cliConfig } = await import('../commands/cli-config.js');
      const { demo } = await import('../commands/demo.js');
      const ok = await demo(cliConfig({ defaults: { 'log.level': 'warn' }, overrides: kit.program.opts().verbose ? { 'log.level': 'info' } : {} }), { seed: o.seed, newClock: o.newClock, print });
      process.exitCode = ok ? 0 : 1;
    });

  kit.program
    .command('psql')
    .description("psql on flarewatch's database (the embedded one is started for the session); arguments after -- go to psql")
    .argument('[args...]', 'psql arguments, e.g. -- -c "select count(*) from api_tokens"')
    .allowUnknownOption()
    .action(async (args: string[]) => {
      const { psqlCommand } = await import('../commands/db.js');
      process.exitCode = await psqlCommand(await kit.load(), args);
    });

  kit.program
    .command('db')
    .description('the embedded PostgreSQL as a server that keeps running: db start | stop | status')
    .argument('<action>', 'start, stop or status')
    .action(async (action: string) => {
      const { dbCommand } = await import('../commands/db.js');
      process.exitCode = await dbCommand(await kit.load(), action, print, Boolean(kit.program.opts().demo));
    });
}
