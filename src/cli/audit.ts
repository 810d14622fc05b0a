import { UsageError } from '../util/usage-error.js';
import { type CliKit, intArg } from './kit.js';

/** `audit verify`, `audit export`, `audit import`, `audit pack`. */
export function registerAudit(kit: CliKit): void {
  const audit = kit.program.command('audit').description('the audit-log archive');
  audit
    .command('verify')
    .description('check the archive against what Cloudflare holds now, day by day; exit 1 when a day has a gap')
    .argument('[streams...]', 'audit stream kinds or names (default: every audit stream)')
    .option('--since <date>', 'verify from this day (default: as far back as Cloudflare keeps entries)')
    .option('--max-requests <n>', 'request budget (default FLAREWATCH_AUDIT_VERIFY_MAX_REQUESTS)', intArg)
    .option('--repair', 'refetch the days that have gaps (idempotent)')
    .option('--estimate', 'only show the days due and the request cost')
    .option('--json', 'machine-readable report')
    .action(async (streams: string[], o: { since?: string; maxRequests?: number; repair?: boolean; estimate?: boolean; json?: boolean }) => {
      const since = o.since ? new Date(o.since) : undefined;
      if (since && Number.isNaN(since.getTime())) throw new UsageError(`audit verify: --since ${o.since} is not a date`);
      const config = await kit.load();
      const { hasCredentials } = await import('../config.js');
      const { auditVerifyCommand } = await import('../commands/audit-verify.js');
      // Without a credential the preflight had nothing to report: the command exited 1 saying nothing.
      if (!hasCredentials(config)) {
        const demo = kit.program.opts().demo ? " (the demo's simulator ended with the demo: `npx flarewatch simulator` serves the same world and prints the variables to set)" : '';
        throw new UsageError(`audit verify compares the archive with what Cloudflare holds now, so it needs a credential: set CLOUDFLARE_API_TOKEN${demo}`);
      }
      await kit.respond((app) =>
        auditVerifyCommand(app.ctx, {
          streams, since, repair: o.repair === true, estimateOnly: o.estimate === true, json: o.json,
          maxRequests: o.maxRequests ?? app.ctx.config.audit.verifyMaxRequests,
        }),
      );
    });
  audit
    .command('export')
    .description('write closed months of the archive to gzip NDJSON files (one per month and source) with a manifest of counts and digests')
    .requiredOption('--out <dir>', 'directory for the files and manifest.json (an earlier manifest there is merged)')
    .option('--month <YYYY-MM...>', 'only these months (default: every closed month)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--json', 'machine-readable report')
    .action(async (o: { out: string; month?: string[]; json?: boolean }) => {
      const { auditExportCommand } = await import('../commands/audit-archive.js');
      await kit.respond((app) => auditExportCommand(app.ctx, { out: o.out, months: o.month ?? [], json: o.json }));
    });
  audit
    .command('import')
    .description('verify an export\'s digests, then write its rows back (idempotent: rows already archived are left alone)')
    .argument('<manifest|file>', 'a manifest.json (every file it lists) or one .ndjson.gz file beside its manifest')
    .option('--json', 'machine-readable report')
    .action(async (target: string, o: { json?: boolean }) => {
      kit.noDemo('audit import');
      const { auditImportCommand } = await import('../commands/audit-archive.js');
      await kit.respond((app) => auditImportCommand(app.ctx, target, { json: o.json }));
    });
  audit
    .command('pack')
    .description('pack closed months: their entries\' JSON compressed across entries, the partition rewritten (entries and bytes before/after per month)')
    .option('--month <YYYY-MM>', 'only this month (default: every month that ended more than audit.packAfterDays ago)')
    .option('--json', 'machine-readable report')
    .action(async (o: { month?: string; json?: boolean }) => {
      const { auditPackCommand } = await import('../commands/audit-pack.js');
      await kit.respond((app) => auditPackCommand(app.ctx, { month: o.month, json: o.json }));
    });
}
