import { parseControl } from '../compliance/controls.js';
import { SEVERITIES, type Severity } from './types.js';

// The header of a custom rule file. The statement itself is checked by nobody but the server
// (one statement through the extended protocol, read only, as the reader role): a lexer of
// our own would only be a second opinion that a hostile rule can fool.

export interface CustomRuleHeader {
  id: string;
  title: string;
  severity: Severity;
  rationale: string;
  remediation: string;
  requires: Array<'audit_logs'>;
  kind: 'state' | 'detection';
  /** `-- controls: SOC2:CC6.1, ISO27001:A.5.15`: the controls the rule gives evidence for. */
  controls: string[];
}

const HEADER_LINE = /^--\s*([a-z_]+)\s*:\s*(.*?)\s*$/i;
const ID = /^[a-z0-9][a-z0-9._-]*$/;

/** Reads the `-- key: value` lines at the top of the file. Throws with the problem. */
export function parseHeader(text: string): CustomRuleHeader {
  const fields: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '') continue;
    if (!trimmed.startsWith('--')) break;
    const m = HEADER_LINE.exec(trimmed);
    if (m) fields[m[1]!.toLowerCase()] = m[2]!;
  }
  if (!fields.id) throw new Error('missing header "-- id: <rule id>"');
  if (!ID.test(fields.id)) throw new Error(`bad id "${fields.id}": use lower-case letters, digits, '.', '_' and '-'`);
  if (!fields.title) throw new Error('missing header "-- title: ..."');
  const severity = (fields.severity ?? 'medium').toLowerCase();
  if (!(SEVERITIES as readonly string[]).includes(severity)) throw new Error(`bad severity "${fields.severity}": use one of ${SEVERITIES.join(', ')}`);
  const requires = (fields.requires ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  for (const r of requires) if (r !== 'audit_logs') throw new Error(`bad requires "${r}": only audit_logs is known`);
  const kind = (fields.kind ?? 'state').toLowerCase();
  if (kind !== 'state' && kind !== 'detection') throw new Error(`bad kind "${fields.kind}": use state or detection`);
  const controls = [...new Set((fields.controls ?? '').split(',').map((s) => s.trim()).filter(Boolean).map(parseControl))];
  return {
    id: fields.id,
    title: fields.title,
    severity: severity as Severity,
    rationale: fields.rationale ?? '',
    remediation: fields.remediation ?? '',
    requires: requires as Array<'audit_logs'>,
    kind,
    controls,
  };
}
