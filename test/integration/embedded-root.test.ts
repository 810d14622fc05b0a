import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { blockedAncestor } from '../../src/db/embedded-access.js';
import { freePort } from '../helpers/ports.js';

// mkdtemp makes 0700 folders: like /root, one the 'postgres' user cannot enter.
const locked = mkdtempSync(join(tmpdir(), 'flarewatch-locked-'));
afterAll(() => rmSync(locked, { recursive: true, force: true }));

describe('the embedded PostgreSQL in a folder its user cannot enter', () => {
  it('finds the first folder on the way that an account cannot enter', () => {
    mkdirSync(join(locked, 'a', 'b'), { recursive: true });
    expect(blockedAncestor(join(locked, 'a', 'b', 'data'), { uid: 65534, gids: [65534] })).toBe(locked);
    expect(blockedAncestor(join(tmpdir(), 'x'), { uid: 65534, gids: [65534] })).toBeUndefined();
  });

  it.runIf(process.getuid?.() === 0)('as root stops with one line saying what to do (no EACCES stack)', async () => {
    const err = await startEmbeddedPostgres(join(locked, 'data'), await freePort()).then(() => undefined, (e: Error) => e);
    expect(err?.name).toBe('FatalError');
    expect(err?.message).toBe(
      `embedded PostgreSQL: running as root, PostgreSQL runs as the 'postgres' user, which cannot enter ${locked}. ` +
        'Set FLAREWATCH_DATA_DIR to a folder it can reach (e.g. /var/lib/flarewatch), or set DATABASE_URL to your own PostgreSQL',
    );
  });
});
