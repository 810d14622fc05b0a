import { ALL_KINDS } from '../sync/kinds.js';
import { type CliKit, print } from './kit.js';

/** `migrate`, `sync`, `run`: what writes the store. */
export function registerSync(kit: CliKit): void {
  const { program } = kit;
  program.command('migrate').description('apply database migrations (under an advisory lock)').action(async () => {
    const config = await kit.load();
    const { openApp } = await import('../app.js');
    const { runMigrations } = await import('../db/migrate.js');
    const app = await openApp(config, { migrate: false });
    try {
      await runMigrations(app.databaseUrl, { log: app.ctx.log });
      print('migrations applied');
    } finally {
      await app.close();
    }
  });

  program
    .command('sync')
    .description(`walk streams once (default: all). Kinds: ${ALL_KINDS.join(', ')}; one stream as <kind>:<credential> or <kind>:<account id>`)
    .argument('[streams...]', 'stream kinds or names')
    .option('--since <date>', 'first audit-log backfill starts here instead of FLAREWATCH_AUDIT_BACKFILL ago')
    .option('--confirm-deletions', 'release deletions the mass-deletion guard holds back for these streams (see sync_state.held_deletions)')
    .action(async (streams: string[], o: { since?: string; confirmDeletions?: boolean }) => {
      kit.noDemo('sync');
      const { oneShot } = await import('../commands/one-shot.js');
      const ok = await oneShot(await kit.load({ overrides: { 'audit.since': o.since } }), streams, false, print, { confirmDeletions: o.confirmDeletions === true, columns: kit.columns() });
      process.exitCode = ok ? 0 : 1;
    });

  program
    .command('run')
    .description('every stream once, then the later stages; non-zero exit if a stream failed')
    .option('--since <date>', 'first audit-log backfill starts here instead of FLAREWATCH_AUDIT_BACKFILL ago')
    .option('--baseline', 'record what the checks find without per-finding alerts; each sink gets one summary')
    .action(async (o: { since?: string; baseline?: boolean }) => {
      kit.noDemo('run');
      const { oneShot } = await import('../commands/one-shot.js');
      const ok = await oneShot(await kit.load({ overrides: { 'audit.since': o.since } }), undefined, true, print, { baseline: o.baseline, columns: kit.columns() });
      process.exitCode = ok ? 0 : 1;
    });
}
