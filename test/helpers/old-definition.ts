import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const MIGRATIONS = fileURLToPath(new URL('../../migrations/', import.meta.url));

/**
 * A view or function as an older migration defined it, renamed so it can be installed beside
 * today's and their rows compared. `from` opens the statement and is replaced by `as`; a view ends at
 * the next statement breakpoint (or the file's end), a function at the `$$;` closing its body.
 */
export function oldDefinition(migration: string, kind: 'view' | 'function', from: string, as: string): string {
  const text = readFileSync(`${MIGRATIONS}${migration}.sql`, 'utf8');
  const start = text.indexOf(from);
  const breakpoint = text.indexOf('--> statement-breakpoint', start);
  // A view ends at the next breakpoint, or with the file when it is the migration's last statement.
  const end = kind === 'view' ? (breakpoint < 0 ? text.length : breakpoint) : text.indexOf('$$;', text.indexOf('$$', start) + 2) + 3;
  if (start < 0 || end < 3) throw new Error(`${migration} no longer holds "${from}"`);
  return text.slice(start, end).replace(from, as);
}
