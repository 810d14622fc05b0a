// Text output shared by the check, findings, rules and suppress commands.

/** Columns padded to their widest cell; plain text, so it reads the same on a TTY and in a log; fitted to a terminal when given its width. */
export { formatTable, type TableOptions } from '../util/table.js';

/** RFC 4180: quote every field that needs it; a leading =,+,-,@ is prefixed so spreadsheets do not run it. */
export function toCsv(header: string[], rows: unknown[][]): string {
  const cell = (v: unknown) => {
    let s = v == null ? '' : v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
    if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(cell).join(',')).join('\r\n');
}

/** Text from Cloudflare goes to a terminal: control characters (escape sequences) are shown, not obeyed. */
export { safeText } from '../util/safe-text.js';

export const isoOrEmpty = (d: Date | null | undefined) => (d ? d.toISOString().replace(/\.\d{3}Z$/, 'Z') : '');
