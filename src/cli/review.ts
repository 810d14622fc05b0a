import { Option } from 'commander';
import { type CliKit, intArg, print } from './kit.js';
import { EXPORT_FORMATS, type ReviewExportFormat } from '../review/formats.js';
import { UsageError } from '../util/usage-error.js';

/** `review start|list|status|attest|diff|export|verify`. */
export function registerReview(kit: CliKit): void {
  const review = kit.program.command('review').description('access reviews: freeze who has what, record keep/revoke decisions, compare with the last review, export the evidence pack');
  const reviewId = (v: string) => intArg(v);
  // Loaded when a command runs, not when `--help` builds the program (kit.ts).
  const commands = () => import('../commands/review.js');
  review
    .command('start')
    .description('freeze a snapshot of every member and token (with grants, 2FA, last use, creator) and the open findings on them')
    .option('--account <id...>', 'only these accounts (default: every watched account)')
    .option('--name <name>', 'what to call it (default: access review <date>)')
    .option('--by <who>', 'who starts it')
    .action(async (o: { account?: string[]; name?: string; by?: string }) => {
      const { reviewStartCommand } = await commands();
      await kit.respond((app) => reviewStartCommand(app.ctx, { accounts: o.account, name: o.name, by: o.by }));
    });
  review
    .command('list')
    .description('every review with its scope and how many items are undecided')
    .option('--json', 'as JSON')
    .action(async (o: { json?: boolean }) => {
      const { reviewListCommand } = await commands();
      await kit.respond((app) => reviewListCommand(app.ctx, Boolean(o.json)));
    });
  review
    .command('status')
    .description('the items of a review still undecided')
    .argument('[review]', 'review id (default: the latest)', reviewId)
    .option('--json', 'as JSON')
    .action(async (id: number | undefined, o: { json?: boolean }) => {
      const { reviewStatusCommand } = await commands();
      await kit.respond((app) => reviewStatusCommand(app.ctx, id, Boolean(o.json)));
    });
  review
    .command('attest')
    .description('record a decision on items (appended: several reviewers, each with the time; the latest decision is in force)')
    .argument('<items...>', 'item keys (review status lists them), token or member ids, or an email / token name naming one item')
    .addOption(new Option('--keep', 'the access stays').conflicts('revoke'))
    .option('--revoke', 'the access is to be removed')
    .option('--by <who>', 'who decides (required)')
    .option('--note <text>', 'why')
    .option('--review <id>', 'review id (default: the latest)', reviewId)
    .action(async (refs: string[], o: { keep?: boolean; revoke?: boolean; by?: string; note?: string; review?: number }) => {
      if (!o.keep && !o.revoke) throw new UsageError('review attest: --keep or --revoke');
      if (!o.by?.trim()) throw new UsageError('review attest: --by names who decides (required)');
      const decision = o.keep ? 'keep' : 'revoke';
      const { reviewAttestCommand } = await commands();
      await kit.respond((app) => reviewAttestCommand(app.ctx, o.review, refs, { decision, by: o.by!, note: o.note }));
    });
  review
    .command('diff')
    .description('what was added, removed or changed since the previous review of the same scope, and since when')
    .option('--review <id>', 'the newer review (default: the latest)', reviewId)
    .option('--against <id>', 'the older review (default: the previous one of the same scope)', reviewId)
    .option('--json', 'as JSON')
    .action(async (o: { review?: number; against?: number; json?: boolean }) => {
      const { reviewDiffCommand } = await import('../commands/review-diff.js');
      await kit.respond((app) => reviewDiffCommand(app.ctx, o));
    });
  review
    .command('export')
    .description('the evidence pack: scope, freshness, every item with its decision, the findings, the control references')
    .addOption(new Option('--format <format>', 'csv, md, html (one printable file) or json').choices([...EXPORT_FORMATS]).makeOptionMandatory())
    .option('--review <id>', 'review id (default: the latest)', reviewId)
    .option('--output <file>', 'write to this file instead of stdout')
    .action(async (o: { format: ReviewExportFormat; review?: number; output?: string }) => {
      const { reviewExportCommand } = await commands();
      await kit.respond((app) => reviewExportCommand(app.ctx, o.review, o.format, o.output));
    });
  review
    .command('verify')
    .description('check an exported JSON evidence pack offline: digest, signature, decision chain; says what that proves and what it does not')
    .argument('<pack>', 'a pack from `review export --format json`')
    .option('--public-key <file>', 'the public key (PEM) the pack must be signed with')
    .option('--previous <pack>', 'an earlier export of the same review: its decisions must be unchanged in this one')
    .action(async (file: string, o: { publicKey?: string; previous?: string }) => {
      const { reviewVerifyCommand } = await import('../commands/review-verify.js');
      const { output, exitCode } = reviewVerifyCommand(file, o);
      print(output);
      process.exitCode = exitCode;
    });
}
