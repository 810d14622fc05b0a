// Plain-text tables for the terminal. In full when no width is given (piped output, `--wide`):
// a script gets every character. Fitted to a width (a terminal): the widest columns give way
// first, each cell cut with '…', or wrapped onto more lines for a table that asks for it.
import { displayWidth, sliceToWidth } from './text-width.js';

export interface TableOptions {
  /** Fit every line into this many columns; undefined: print every cell in full. */
  width?: number;
  /** Wrap cut cells onto continuation lines instead of ending them with '…' (for prose columns). */
  wrap?: boolean;
  /** A line of dashes under the header (default true). */
  rule?: boolean;
  /**
   * The free-text columns, by header: they give way first, so ids, keys and times stay whole
   * while they can. Unset: every column may give way.
   */
  flex?: string[];
}

const GAP = 2;
/** No column gives way below this (or its header, or its widest cell if narrower). */
const MIN_COLUMN = 8;

/** Each column's width once the widest have given way until the row fits `width` (if it can). */
export function fitWidths(natural: number[], minimums: number[], width: number): number[] {
  const widths = [...natural];
  let over = widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1) - width;
  while (over > 0) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) if (widths[i]! > minimums[i]! && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    if (widest < 0) break; // every column at its minimum: the line stays longer than the terminal
    const next = Math.max(minimums[widest]!, ...widths.filter((_, i) => i !== widest && widths[i]! < widths[widest]!));
    const cut = Math.min(over, widths[widest]! - next || 1);
    widths[widest] = widths[widest]! - cut;
    over -= cut;
  }
  return widths;
}

/** `text` cut to `width` columns, ending with '…' when something was left out. */
export function truncate(text: string, width: number): string {
  if (displayWidth(text) <= width) return text;
  return `${sliceToWidth(text, Math.max(0, width - 1))}…`;
}

/** `text` in lines of at most `width` columns, broken at spaces where it can be. */
export function wrapCell(text: string, width: number): string[] {
  const lines: string[] = [];
  let rest = text;
  while (displayWidth(rest) > width) {
    const head = sliceToWidth(rest, width);
    const space = head.lastIndexOf(' ');
    // A break right after the head, else the last space in it (not too early), else mid-word.
    const cut = rest[head.length] === ' ' ? head.length : space > width / 3 ? space : head.length;
    lines.push(rest.slice(0, cut).trimEnd());
    rest = rest.slice(cut).trimStart();
  }
  return [...lines, rest];
}

/** A line of prose fitted to `width`: continuation lines indented like the first, plus two. */
export function wrapLine(line: string, width: number | undefined): string {
  if (width === undefined || displayWidth(line) <= width) return line;
  const indent = ' '.repeat((/^ */.exec(line)?.[0].length ?? 0) + 2);
  const first = wrapCell(line, width)[0]!;
  const rest = wrapCell(line.slice(first.length).trimStart(), Math.max(MIN_COLUMN, width - indent.length));
  return [first, ...rest.map((l) => indent + l)].join('\n');
}

const fits = (widths: number[], width: number) => widths.reduce((a, b) => a + b, 0) + GAP * (widths.length - 1) <= width;

const pad = (s: string, width: number) => s + ' '.repeat(Math.max(0, width - displayWidth(s)));

/** Columns padded to their widest cell, a rule under the header; fitted to `opts.width` when given. */
export function formatTable(header: string[], rows: string[][], opts: TableOptions = {}): string {
  const natural = header.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))));
  const minimums = natural.map((n, i) => Math.min(n, Math.max(MIN_COLUMN, displayWidth(header[i]!))));
  const flexible = opts.flex ? header.map((h) => opts.flex!.includes(h)) : header.map(() => true);
  const firstPass = minimums.map((m, i) => (flexible[i] ? m : natural[i]!));
  const fitted = opts.width === undefined ? natural : fitWidths(natural, firstPass, opts.width);
  const widths = opts.width === undefined || fits(fitted, opts.width) ? fitted : fitWidths(fitted, minimums, opts.width);
  const line = (cells: string[]) => cells.map((c, i) => pad(c, widths[i]!)).join(' '.repeat(GAP)).trimEnd();
  const render = (cells: string[]): string[] => {
    if (!opts.wrap) return [line(cells.map((c, i) => truncate(c, widths[i]!)))];
    const wrapped = cells.map((c, i) => wrapCell(c, widths[i]!));
    const height = Math.max(...wrapped.map((w) => w.length));
    return Array.from({ length: height }, (_, k) => line(wrapped.map((w) => w[k] ?? '')));
  };
  const rule = opts.rule === false ? [] : [line(widths.map((w) => '-'.repeat(w)))];
  return [line(header.map((h, i) => truncate(h, widths[i]!))), ...rule, ...rows.flatMap((r) => render(header.map((_, i) => r[i] ?? '')))].join('\n');
}
