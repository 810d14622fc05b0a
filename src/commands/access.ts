import { sql } from 'drizzle-orm';
import { accessCsv, accessJson, accessTable } from '../access/format.js';
import { accessOf } from '../access/of.js';
import { type Incomplete, incompleteLines, select } from '../access/rows.js';
import { parseAt } from '../access/scope.js';
import { whoCan } from '../access/who-can.js';
import type { Context } from '../context.js';
import { wrapLine } from '../util/table.js';

export type AccessFormat = 'table' | 'json' | 'csv';

/** What a command prints: stdout, and the incompleteness warnings (stderr for table and CSV, a field in JSON). */
export interface AccessOutput { output: string; warnings: string[] }

const pictureJson = (list: Incomplete[]) => ({
  picture_complete: list.length === 0,
  incomplete: list.map((p) => ({ account_id: p.account_id, account_name: p.account_name, missing: p.missing })),
});

export async function whoCanCommand(ctx: Pick<Context, 'db' | 'columns'>, o: { permission: string; account?: string; zone?: string; at?: string; format: AccessFormat }): Promise<AccessOutput> {
  const r = await whoCan(ctx.db, { permission: o.permission, account: o.account, zone: o.zone, at: parseAt(o.at) });
  const warnings = incompleteLines(r.incomplete);
  if (o.format === 'json') {
    return {
      output: JSON.stringify({
        permission: r.permission.term, capability: r.permission.capability, permission_groups: r.permission.groups,
        account: r.account, zone: r.zone, at: r.at?.toISOString() ?? null, ...pictureJson(r.incomplete), rows: r.rows.map(accessJson),
      }, null, 2),
      warnings: [],
    };
  }
  if (o.format === 'csv') return { output: accessCsv(r.rows), warnings };
  const where = r.zone ? ` on zone ${r.zone.name}` : r.account ? ` in account ${r.account.name ?? r.account.id}` : '';
  const head = `who can ${r.permission.term}${where}${r.at ? ` at ${r.at.toISOString()}` : ''}` +
    (r.permission.capability ? ` (capability ${r.permission.capability}: ${r.permission.groups.join(', ')})` : '');
  return { output: `${wrapLine(head, ctx.columns)}\n${r.rows.length ? accessTable(r.rows, ctx.columns) : 'nobody'}`, warnings };
}

export async function accessOfCommand(ctx: Pick<Context, 'db' | 'columns'>, o: { principal: string; at?: string; format: AccessFormat }): Promise<AccessOutput> {
  const r = await accessOf(ctx.db, o.principal, parseAt(o.at));
  const warnings = incompleteLines(r.incomplete);
  if (o.format === 'json') {
    return { output: JSON.stringify({ principal: r.principal, at: r.at?.toISOString() ?? null, ...pictureJson(r.incomplete), rows: r.rows.map(accessJson) }, null, 2), warnings: [] };
  }
  if (o.format === 'csv') return { output: accessCsv(r.rows), warnings };
  const body = r.rows.length ? accessTable(r.rows, ctx.columns) : 'nothing found, and the picture is incomplete (see the lines above)';
  return { output: `${wrapLine(`access of ${r.principal}${r.at ? ` at ${r.at.toISOString()}` : ''}`, ctx.columns)}\n${body}`, warnings };
}

/** The vocabulary: each capability, its aliases and the permission groups that hold it. */
export async function capabilitiesCommand(ctx: Pick<Context, 'db' | 'columns'>, json: boolean): Promise<AccessOutput> {
  const rows = await select<{ capability: string; description: string | null; aliases: string[]; groups: string[] }>(ctx.db, sql`
    select c.capability, min(c.description) as description,
      coalesce((select array_agg(a.alias order by a.alias) from access_capability_aliases a where a.capability = c.capability and a.alias <> c.capability), '{}') as aliases,
      array_agg(c.permission_group_name order by c.permission_group_name) as groups
    from access_capabilities c group by c.capability order by c.capability`);
  if (json) return { output: JSON.stringify(rows, null, 2), warnings: [] };
  const line = (s: string) => wrapLine(s, ctx.columns);
  return { output: rows.map((r) => `${line(`${r.capability}${r.aliases.length ? ` (${r.aliases.join(', ')})` : ''}: ${r.description ?? ''}`)}\n${line(`  ${r.groups.join(', ')}`)}`).join('\n'), warnings: [] };
}
