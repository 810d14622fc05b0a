import type { Context } from '../context.js';
import { type FindingFilter, listFindings } from '../db/queries/findings-read.js';
import { formatJunit } from '../findings/export-junit.js';
import { formatOcsf } from '../findings/export-ocsf.js';
import { resolveRuleSettings } from '../rules/config.js';
import { loadRuleSet } from '../rules/engine.js';
import { findingsCommand, type FindingsFormat } from './findings.js';

import type { ExportFormat } from '../findings/formats.js';

export { type ExportFormat, FINDINGS_FORMATS } from '../findings/formats.js';

/** `findings --format`: the list formats, plus OCSF (NDJSON for SIEMs) and JUnit XML (for CI). */
export async function exportFindings(ctx: Context, filter: FindingFilter, format: ExportFormat): Promise<string> {
  if (format === 'ocsf') return formatOcsf(await listFindings(ctx.db, { status: 'open', ...filter }), ctx.now());
  if (format === 'junit') {
    const set = loadRuleSet(ctx.config);
    const rules = set.rules
      .filter((r) => !filter.ruleId || r.id === filter.ruleId)
      .map((r) => ({ id: r.id, title: r.title, enabled: resolveRuleSettings(r, ctx.config).enabled }));
    return formatJunit(rules, await listFindings(ctx.db, { ...filter, status: 'open' }), ctx.now());
  }
  return findingsCommand(ctx, filter, format as FindingsFormat);
}
