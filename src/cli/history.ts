import type { CliKit } from './kit.js';

/** `history token`, `history member`. */
export function registerHistory(kit: CliKit): void {
  const history = kit.program.command('history').description('who had what, when: every version a sync saw and the audit events about it, in one timeline');
  history
    .command('token')
    .description("one token's versions (name, status, expiry, policies, IP conditions) and the audit events on it, with each change's actor")
    .argument('<token>', 'token id, or its name')
    .option('--json', 'as JSON')
    .action(async (ref: string, o: { json?: boolean }) => {
      const { historyTokenCommand } = await import('../commands/history.js');
      await kit.respond((app) => historyTokenCommand(app.ctx, ref, Boolean(o.json)));
    });
  history
    .command('member')
    .description("every membership of an email: its versions (status, roles, policies, 2FA) and the audit events on it, with each change's actor")
    .argument('<email>', "the member's email")
    .option('--json', 'as JSON')
    .action(async (email: string, o: { json?: boolean }) => {
      const { historyMemberCommand } = await import('../commands/history.js');
      await kit.respond((app) => historyMemberCommand(app.ctx, email, Boolean(o.json)));
    });
}
