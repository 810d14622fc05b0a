import { parseControl } from '../compliance/controls.js';
import { SEVERITIES, type Severity } from './types.js';

// Static checks of a custom rule file, before it ever reaches the database. The database
// is the real guard (READ ONLY transaction, statement timeout); these give a clear message
// for the common mistakes and keep a second statement from riding along.

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

/**
 * The statement's code with comments and literals blanked (same length, so positions map
 * back to the text), so keywords and `;` are found only where they are syntax. Understands
 * '…' (with ''), E'…' (with \'), "…", $tag$…$tag$, -- and nested /* *\/ comments.
 */
export function codeOnly(text: string): string {
  let out = '';
  let i = 0;
  const blank = (from: number, to: number, keepEnds: boolean) => {
    const n = Math.min(to, text.length) - from;
    out += keepEnds && n >= 2 ? text[from] + ' '.repeat(n - 2) + text[from + n - 1] : ' '.repeat(Math.max(0, n));
  };
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    const start = i;
    if (c === '-' && next === '-') {
      const end = text.indexOf('\n', i);
      i = end < 0 ? text.length : end;
      blank(start, i, false);
    } else if (c === '/' && next === '*') {
      let depth = 0;
      do {
        if (text.startsWith('/*', i)) (depth++, (i += 2));
        else if (text.startsWith('*/', i)) (depth--, (i += 2));
        else i++;
      } while (depth > 0 && i < text.length);
      blank(start, i, false);
    } else if (c === "'" || c === '"') {
      const escapes = c === "'" && /[eE]/.test(text[i - 1] ?? '') && !/\w/.test(text[i - 2] ?? '');
      i++;
      while (i < text.length) {
        if (escapes && text[i] === '\\') i += 2;
        else if (text[i] === c && text[i + 1] === c) i += 2;
        else if (text[i] === c) break;
        else i++;
      }
      i++;
      blank(start, i, true);
    } else if (c === '$' && /^\$[A-Za-z_]?\w*\$/.test(text.slice(i, i + 64)) && !/\w/.test(text[i - 1] ?? '')) {
      const tag = /^\$[A-Za-z_]?\w*\$/.exec(text.slice(i, i + 64))![0];
      const end = text.indexOf(tag, i + tag.length);
      i = end < 0 ? text.length : end + tag.length;
      out += "'" + ' '.repeat(i - start - 2) + "'";
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The statement to run (anything from its first top-level `;` on removed). Throws unless it is one SELECT or WITH. */
export function checkStatement(text: string): string {
  const code = codeOnly(text);
  const semi = code.indexOf(';');
  const body = semi < 0 ? code : code.slice(0, semi);
  if (body.trim() === '') throw new Error('no SQL statement');
  if (semi >= 0 && code.slice(semi).replace(/[\s;]/g, '') !== '') throw new Error('more than one statement: a rule is a single SELECT');
  const first = /^[\s(]*([A-Za-z]+)/.exec(body)?.[1]?.toLowerCase();
  if (first !== 'select' && first !== 'with') {
    throw new Error(`not a query: a rule must be a single SELECT or WITH statement, not ${first?.toUpperCase() ?? 'this'}`);
  }
  return semi < 0 ? text : text.slice(0, semi);
}
