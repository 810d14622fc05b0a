import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Option } from 'commander';
import { type ExportFormat, FINDINGS_FORMATS } from '../findings/formats.js';
import type { Severity } from '../config/severity.js';
import { type CliKit, intArg, print, severityArg } from './kit.js';

/** `findings`, `findings show`, `findings ack`. */
export function registerFindings(kit: CliKit): void {
  const findings = kit.program
    .command('findings')
    .description('list findings (default: open ones), state findings and detections apart: a table, JSON, CSV, OCSF (NDJSON for SIEMs) or JUnit XML (for CI); `findings show <id>` for one, `findings ack <id…>` to acknowledge detections')
    .addOption(new Option('--severity <severity>', 'at or above this severity').argParser(severityArg))
    .option('--rule <id>', 'one rule only')
    .option('--control <control>', 'only findings of rules that support this control: CC6.1, SOC2:CC6, A.5.18, PCI:8.2 (flarewatch rules lists them)')
    .addOption(new Option('--kind <kind>', 'state findings or detections').choices(['state', 'detection']))
    .addOption(new Option('--status <status>', 'open, resolved or all').choices(['open', 'resolved', 'all']).default('open'))
    .addOption(new Option('--format <format>', 'output format').choices([...FINDINGS_FORMATS]).conflicts(['json', 'csv']))
    .addOption(new Option('--json', 'JSON array (same as --format json)').conflicts('csv'))
    .option('--csv', 'CSV with a header row (same as --format csv)')
    .action(async (o: { severity?: Severity; rule?: string; control?: string; kind?: 'state' | 'detection'; status: 'open' | 'resolved' | 'all'; format?: ExportFormat; json?: boolean; csv?: boolean }) => {
      const format: ExportFormat = o.format ?? (o.json ? 'json' : o.csv ? 'csv' : 'table');
      const config = await kit.load();
      const { exportFindings } = await import('../commands/findings-export.js');
      const { rulesForControl } = await import('../compliance/controls.js');
      const { ruleIdsWithFindings } = await import('../db/queries/finding-detail.js');
      const { loadRuleSet } = await import('../rules/engine.js');
      const { assertKnownRule, knownRuleIds } = await import('../rules/known-ids.js');
      const output = await kit.withApp(async (app) => {
        if (o.rule) assertKnownRule(o.rule, [...knownRuleIds(app.ctx.config), ...(await ruleIdsWithFindings(app.ctx.db))], 'findings --rule');
        const ruleIds = o.control === undefined ? undefined : rulesForControl(o.control, loadRuleSet(app.ctx.config).rules);
        return exportFindings(app.ctx, { severity: o.severity, ruleId: o.rule, ruleIds, kind: o.kind, status: o.status }, format);
      }, config);
      print(output);
      // Right after `npm run demo`, the default embedded database is empty: say where the demo's data is.
      if (output === 'no findings' && !kit.program.opts().demo && !config.database.url && existsSync(join(config.dataDir, 'demo', 'postgres'))) {
        print("(the demo's findings are in its own database: add --demo)");
      }
    });
  findings
    .command('show')
    .description('one finding with its facts and its history')
    .argument('<id>', 'the id column of `flarewatch findings`')
    .option('--json', 'as JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const { findingsShowCommand } = await import('../commands/findings-show.js');
      await kit.respond((app) => findingsShowCommand(app.ctx, id, Boolean(o.json)));
    });

  findings
    .command('ack')
    .description('acknowledge detections: resolved (reason acknowledged, who, note); incidents they opened resolve')
    .argument('<ids...>', 'finding ids (flarewatch findings shows them)', (v: string, prev: number[] = []) => [...prev, intArg(v)])
    .option('--by <who>', 'who acknowledges (required)')
    .option('--note <text>', 'what was found, what was done')
    .action(async (ids: number[], o: { by?: string; note?: string }) => {
      const { ackCommand } = await import('../commands/findings.js');
      await kit.respond((app) => ackCommand(app.ctx, ids, o));
    });
}
