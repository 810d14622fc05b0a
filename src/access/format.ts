import { formatTable, safeText, toCsv } from '../commands/findings-format.js';
import type { AccessRow } from './rows.js';

// Every row says in words where its access comes from and what it covers.

/** "via group Platform Admins, policy 3", "via role DNS", "via organization o1", "via token policy p1". */
export function pathWords(r: AccessRow): string {
  const policy = r.policy_id ? `, policy ${r.policy_id}` : '';
  switch (r.path) {
    case 'role': return `via role ${r.permission_group_name ?? r.permission_group_id}`;
    case 'policy': return `via own policy${r.policy_id ? ` ${r.policy_id}` : ''}`;
    case 'group': return `via group ${r.group_name ?? r.group_id}${policy}`;
    case 'organization': return `via organization ${r.organization_id} (implicit Super Administrator)`;
    default: return `via token policy${r.policy_id ? ` ${r.policy_id}` : ''}`;
  }
}

/** "account Acme", "zone example.com", "all zones of Acme". */
export function resourceWords(r: AccessRow): string {
  const account = r.account_name ?? r.account_id ?? '?';
  if (r.resource_kind === 'zone') return `zone ${r.zone_name ?? r.zone_id}`;
  if (r.resource_kind === 'all_zones') return `all zones of ${account}`;
  if (r.resource_kind === 'account') return `account ${account}`;
  return r.resource_key;
}

const HEADER = ['principal', 'type', 'account', 'permission', 'on', 'path', 'effective'];

function cells(r: AccessRow): string[] {
  const effective = r.effective ? 'yes' : `no: ${r.not_effective_reason ?? ''}`;
  return [r.principal ?? r.principal_id, r.principal_type, r.account_name ?? r.account_id ?? '', `${r.access === 'deny' ? 'deny ' : ''}${r.permission_group_name ?? r.permission_group_id ?? ''}`,
    resourceWords(r), pathWords(r), effective].map(safeText);
}

export const accessTable = (rows: AccessRow[], width?: number) => formatTable(HEADER, rows.map(cells), { width, flex: ['path', 'effective', 'on', 'principal'] });

export const accessCsv = (rows: AccessRow[]) =>
  toCsv([...HEADER, 'principal_id', 'account_id', 'zone_id', 'policy_id', 'group_id', 'organization_id', 'picture_complete'],
    rows.map((r) => [...cells(r), r.principal_id, r.account_id, r.zone_id, r.policy_id, r.group_id, r.organization_id, r.picture_complete]));

export const accessJson = (r: AccessRow) => ({ ...r, path_words: pathWords(r), resource_words: resourceWords(r) });
