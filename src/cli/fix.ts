import { InvalidArgumentError, Option } from 'commander';
import { REMEDIATION_KINDS, type RemediationKind } from '../db/schema/remediation-kinds.js';
import type { Severity } from '../config/severity.js';
import { parseDuration } from '../util/duration.js';
import { UsageError } from '../util/usage-error.js';
import { type CliKit, durationArg, intArg, severityArg } from './kit.js';

// Loaded when a command runs, not when `--help` builds the program (kit.ts).
const commands = () => import('../commands/fix.js');

const collect = <T>(parse: (v: string) => T) => (v: string, prev: T[] = []) => [...prev, parse(v)];
const expiresArg = (v: string): Date => {
  const ms = parseDuration(v);
  if (ms !== undefined) return new Date(Date.now() + ms);
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new InvalidArgumentError('a duration (30d) or a date');
  return d;
};

/** `fix plan|show|approve|apply|undo|history|except`: acting on findings, plan first (STYLE.md example 12). */
export function registerFix(kit: CliKit): void {
  const fix = kit.program.command('fix').description('remediation: plan changes from findings or review revocations, approve (a second person), apply safely, undo');
  fix.command('plan')
    .description('read each object named by the findings (or review revocations, or --object) and store the exact requests that would fix it; sends no write')
    .option('--rule <id>', 'findings of this rule (repeatable)', collect(String))
    .option('--finding <id>', 'this finding (repeatable)', collect(intArg))
    .option('--severity <severity>', 'findings at or above this severity', severityArg)
    .option('--control <id>', 'findings of the rules evidencing this control (e.g. SOC2:CC6.2)')
    .addOption(new Option('--review [id]', "the latest decision of each item of a review (default: the latest) that is 'revoke'").argParser(intArg))
    .option('--object <key>', 'an object key (token:<id>, member:<account>:<id>, invite:<id>, group-member:<account>:<group>:<member>); needs --action (repeatable)', collect(String))
    .addOption(new Option('--action <kind>', 'the action for every item instead of the default for its rule').choices([...REMEDIATION_KINDS]))
    .option('--expires-in <duration>', 'token-set-expiry: the expiry, this long from now (default 90d)', durationArg)
    .option('--by <who>', 'who plans it (required; cannot approve it)')
    .option('--note <text>', 'why')
    .option('--json', 'as JSON')
    .action(async (o: { rule?: string[]; finding?: number[]; severity?: Severity; control?: string; review?: number | boolean; object?: string[]; action?: RemediationKind; expiresIn?: number; by?: string; note?: string; json?: boolean }) => {
      if (!o.by?.trim()) throw new UsageError('fix plan: --by names who plans (required)');
      const { fixPlanCommand } = await commands();
      await kit.respond((app) => fixPlanCommand(app.ctx, { ...o, by: o.by!, expiresInMs: o.expiresIn, json: Boolean(o.json) }));
    });
  fix.command('show').description('a plan: its requests, preconditions, approvals and outcomes').argument('<plan>', 'plan id', intArg).option('--json', 'as JSON')
    .action(async (id: number, o: { json?: boolean }) => {
      const { fixShowCommand } = await commands();
      await kit.respond((app) => fixShowCommand(app.ctx, id, Boolean(o.json)));
    });
  fix.command('approve').description('approve a plan (never your own); irreversible actions need --accept-irreversible').argument('<plan>', 'plan id', intArg)
    .option('--by <who>', 'who approves (required)').option('--accept-irreversible', 'the plan deletes or removes something that cannot be restored').option('--note <text>', 'why')
    .action(async (id: number, o: { by?: string; acceptIrreversible?: boolean; note?: string }) => {
      if (!o.by?.trim()) throw new UsageError('fix approve: --by names who approves (required)');
      const { fixApproveCommand } = await commands();
      await kit.respond((app) => fixApproveCommand(app.ctx, id, o.by!, o));
    });
  fix.command('apply').description('apply an approved plan: re-read each object, skip what moved, send, verify; resumable; exit 1 if an action failed')
    .argument('<plan>', 'plan id', intArg).option('--json', 'as JSON')
    .action(async (id: number, o: { json?: boolean }) => {
      const { fixApplyCommand } = await commands();
      await kit.respond((app) => fixApplyCommand(app.ctx, id, Boolean(o.json)));
    });
  fix.command('undo').description("restore a plan's reversible actions from the recorded before-state").argument('<plan>', 'plan id', intArg).option('--json', 'as JSON')
    .action(async (id: number, o: { json?: boolean }) => {
      const { fixUndoCommand } = await commands();
      await kit.respond((app) => fixUndoCommand(app.ctx, id, Boolean(o.json)));
    });
  fix.command('history').description('every plan with its approvals and outcomes').option('--json', 'as JSON')
    .action(async (o: { json?: boolean }) => {
      const { fixHistoryCommand } = await commands();
      await kit.respond((app) => fixHistoryCommand(app.ctx, Boolean(o.json)));
    });
  fix.command('hygiene').description('run the hygiene policies once now (notices, cancellations, plans on their date), as the daemon\'s remediation.hygiene job does, and deliver their alerts')
    .option('--json', 'as JSON')
    .action(async (o: { json?: boolean }) => {
      const { fixHygieneCommand } = await commands();
      await kit.respond((app) => fixHygieneCommand(app.ctx, Boolean(o.json)));
    });
  fix.command('except').description('a hygiene policy leaves this object alone: except <object-key> --reason ... --by ... [--rule id] [--expires 90d|DATE]; or --list')
    .argument('[object]', 'object key (token:<id>, member:<account>:<id>, invite:<id>)')
    .option('--rule <id>', 'only the policies of this rule (default: every policy)').option('--reason <text>', 'why (required)').option('--by <who>', 'who decides (required)')
    .option('--expires <when>', 'a duration from now or a date', expiresArg).option('--list', 'list exceptions')
    .action(async (key: string | undefined, o: { rule?: string; reason?: string; by?: string; expires?: Date; list?: boolean }) => {
      if (!key && !o.list) throw new UsageError('fix except: name an object key, or --list');
      const { fixExceptCommand } = await commands();
      await kit.respond((app) => fixExceptCommand(app.ctx, key ?? '', { ...o, expiresAt: o.expires }));
    });
}
