import { Writable } from 'node:stream';

/**
 * stderr as the logger sees it on a terminal: normally written straight through; while a
 * progress bar owns the screen, each line is handed to it instead, so it prints the line above
 * the bars rather than through them.
 */
export interface Terminal {
  stream: Writable;
  /** Route lines to `to` (a progress bar's log), or back to stderr with no argument. */
  divert(to?: (line: string) => void): void;
  columns(): number;
}

export function createTerminal(out: NodeJS.WriteStream = process.stderr): Terminal {
  let diverted: ((line: string) => void) | undefined;
  const stream = new Writable({
    write(chunk, _enc, cb) {
      const text = String(chunk);
      if (diverted) diverted(text.endsWith('\n') ? text : `${text}\n`);
      else out.write(text);
      cb();
    },
  });
  return { stream, divert: (to) => (diverted = to), columns: () => out.columns || 100 };
}
