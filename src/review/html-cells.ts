import { escapeHtml } from '../alerts/escape.js';

// Pure: text into table cells of the HTML evidence pack, escaped, and marked up so that a browser
// breaks lines between words only. A browser also breaks after a hyphen or a slash (a date
// "2026-04-" / "01", a rule id "token-no-ip-" / "restriction"): such words are kept whole. Only an
// id or another long token (a hex id, an email, a URL) may break inside, where nothing else fits.

/** Escaped as the alert e-mails are; control characters (no meaning in HTML text) dropped first. */
export const esc = (s: unknown): string => escapeHtml(String(s ?? '').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, ''));

/** Longer than this, a word is an id or alike (a 32-hex id, a URL): it may break inside. */
const LONG_TOKEN = 22;
/** A name made of words and hyphens (a rule id): kept whole up to this length, longer it may break. */
const KEBAB = /^\(?[a-z0-9]+(-[a-z0-9]+)+\)?[,.;:]?$/i;
const LONG_KEBAB = 30;
/** An ISO time: it may break after its date (there and nowhere else). */
const TIME = /^(\(?\d{4}-\d\d-\d\dT)(\d\d:\d\d(:\d\d(\.\d+)?)?Z\)?[,.;:]?)$/;

function word(w: string): string {
  const t = TIME.exec(w);
  if (t) return `<span class="nw">${esc(t[1])}</span><wbr><span class="nw">${esc(t[2])}</span>`;
  if (KEBAB.test(w) && w.length <= LONG_KEBAB) return `<span class="nw">${esc(w)}</span>`;
  const at = w.lastIndexOf('@');
  // An email breaks before its @ only: "carol.kowalski96" / "@example.com".
  if (at > 0 && !/\s/.test(w)) return `${word(w.slice(0, at))}<wbr>${word(w.slice(at))}`;
  if (w.length > LONG_TOKEN) return `<span class="id">${esc(w)}</span>`;
  return /[-/\u2010-\u2014]/.test(w) ? `<span class="nw">${esc(w)}</span>` : esc(w);
}

/** One line of text, its words marked up as above. */
export const text = (s: unknown): string =>
  String(s ?? '').split(/(\s+)/).map((w) => (w.trim() ? word(w) : esc(w))).join('');

/**
 * How a column is laid out. `text`: wraps between words; `short`: each line kept whole, the
 * column as wide as its content (a status, a decision, a rule id); `long`: wraps, and is given
 * room on a screen (roles, grants), where a table wider than the screen scrolls.
 */
export type ColumnKind = 'text' | 'short' | 'long';
export interface Column { label: string; kind?: ColumnKind }

/** A cell: text, or lines (one per grant, role or finding). */
export function cell(v: unknown, kind: ColumnKind = 'text', cls = ''): string {
  const lines = Array.isArray(v) ? v : [v];
  const classes = [kind === 'text' ? '' : kind, cls].filter(Boolean).join(' ');
  return `<td${classes ? ` class="${classes}"` : ''}>${lines.map(text).join('<br>')}</td>`;
}

export const head = (cols: Column[]) =>
  `<thead><tr>${cols.map((c) => `<th${c.kind && c.kind !== 'text' ? ` class="${c.kind}"` : ''}>${esc(c.label)}</th>`).join('')}</tr></thead>`;

/** A table in a container that scrolls sideways on a narrow screen (the page itself never does). */
export const wide = (id: string, cols: Column[], body: string, cls = '') =>
  `<div class="wide"><table id="${id}"${cls ? ` class="${cls}"` : ''}>${head(cols)}<tbody>${body}</tbody></table></div>`;

export function table(id: string, cols: Column[], rows: unknown[][]): string {
  if (!rows.length) return `<p class="none" id="${id}">none</p>`;
  return wide(id, cols, rows.map((r) => `<tr>${r.map((v, i) => cell(v, cols[i]?.kind)).join('')}</tr>`).join('\n'));
}

/** Label/value rows (the summary): a row header, no column header. */
export const labelled = (id: string, rows: Array<[string, unknown]>) =>
  `<table id="${id}" class="meta"><tbody>${rows.map(([k, v]) => `<tr><th scope="row">${esc(k)}</th>${cell(v)}</tr>`).join('\n')}</tbody></table>`;
