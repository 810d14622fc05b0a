import { auditVerifyCommand } from '../commands/audit-verify.js';
import { hasCredentials } from '../config.js';
import { UsageError } from '../util/usage-error.js';
import { type CliKit, intArg } from './kit.js';

/** `audit verify`. */
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
      const config = kit.load();
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
}
