import { Option } from 'commander';
import type { App } from '../app.js';
import type { AccessFormat, AccessOutput } from '../commands/access.js';
import { type CliKit, print } from './kit.js';

// Loaded when a command runs, not when `--help` builds the program (kit.ts).
const commands = () => import('../commands/access.js');

const formatOf = (o: { json?: boolean; csv?: boolean }): AccessFormat => (o.json ? 'json' : o.csv ? 'csv' : 'table');

const formats = [new Option('--json', 'as JSON (incompleteness is a field)').conflicts('csv'), new Option('--csv', 'as CSV')];

async function show(kit: CliKit, run: (app: App) => Promise<AccessOutput>): Promise<void> {
  const { output, warnings } = await kit.withApp(run);
  for (const w of warnings) process.stderr.write(`${w}\n`);
  print(output);
}

/** `access who-can`, `access of`, `access capabilities`: the access model (docs/access-model.md) from the command line. */
export function registerAccess(kit: CliKit): void {
  const access = kit.program.command('access').description('who can do what, through every path (roles, policies, user groups, organizations, tokens), after deny');
  const whoCan = access
    .command('who-can')
    .description('who effectively holds a permission: a capability (dns:edit, admin; see `access capabilities`) or a permission group name')
    .argument('<permission>', 'capability, alias (dns.write) or permission group name ("DNS Write")')
    .option('--account <account>', 'one account, by id or name')
    .option('--zone <zone>', 'one zone, by name or id (account-wide and all-zones grants count)')
    .option('--at <date>', 'as it stood at this instant (from history)');
  for (const f of formats) whoCan.addOption(f);
  whoCan.action(async (permission: string, o: { account?: string; zone?: string; at?: string; json?: boolean; csv?: boolean }) => {
    const { whoCanCommand } = await commands();
    await show(kit, (app) => whoCanCommand(app.ctx, { permission, account: o.account, zone: o.zone, at: o.at, format: formatOf(o) }));
  });
  const of = access
    .command('of')
    .description('everything one member or token holds, on every path, with what removed what is not effective')
    .argument('<principal>', 'email, member id, or token id or name')
    .option('--at <date>', 'as it stood at this instant (from history)');
  for (const f of formats) of.addOption(f);
  of.action(async (principal: string, o: { at?: string; json?: boolean; csv?: boolean }) => {
    const { accessOfCommand } = await commands();
    await show(kit, (app) => accessOfCommand(app.ctx, { principal, at: o.at, format: formatOf(o) }));
  });
  access.command('capabilities').description('the permission vocabulary: capabilities, their aliases, the permission groups holding each')
    .option('--json', 'as JSON')
    .action(async (o: { json?: boolean }) => {
      const { capabilitiesCommand } = await commands();
      await show(kit, (app) => capabilitiesCommand(app.ctx, Boolean(o.json)));
    });
}
