import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { needTool, toolPath } from '../helpers/tools.js';

// The helper every suite needing redis-server, chromium or promtool goes through, with PATH made up.

const dir = mkdtempSync(join(tmpdir(), 'flarewatch-tools-'));
const empty = mkdtempSync(join(tmpdir(), 'flarewatch-tools-empty-'));
writeFileSync(join(dir, 'redis-server'), '#!/bin/sh\nexit 0\n');
chmodSync(join(dir, 'redis-server'), 0o755);
// Present but not executable: not a tool.
writeFileSync(join(dir, 'promtool'), '');
afterAll(() => { for (const d of [dir, empty]) rmSync(d, { recursive: true, force: true }); });

describe('needTool', () => {
  it('finds an executable on the PATH, and nothing else', () => {
    expect(toolPath('redis-server', { PATH: `${empty}:${dir}` })).toBe(join(dir, 'redis-server'));
    expect(toolPath('promtool', { PATH: dir })).toBeUndefined();
    expect(toolPath('chromium', { PATH: '' })).toBeUndefined();
  });

  it('present: the suite runs, nothing printed', () => {
    const lines: string[] = [];
    expect(needTool('redis-server', 'daemon tests', { PATH: dir }, (l) => lines.push(l))).toBe(true);
    expect(lines).toEqual([]);
  });

  it('missing: the suite skips with one line naming the tool and how to install it', () => {
    const lines: string[] = [];
    expect(needTool('chromium', 'queue-ui tests', { PATH: empty }, (l) => lines.push(l))).toBe(false);
    expect(lines).toEqual(['queue-ui tests: skipped: chromium is not on the PATH (apt-get install chromium)']);
    expect(needTool('promtool', 'metrics', { PATH: dir, CI: 'false' }, (l) => lines.push(l))).toBe(false);
    expect(lines[1]).toMatch(/^metrics: skipped: promtool is not on the PATH \(apt-get install prometheus, or promtool from https:\/\/prometheus\.io\/download\)$/);
  });

  it('missing with CI=true: the suite fails, naming the tool, and prints no skip line', () => {
    const lines: string[] = [];
    expect(() => needTool('redis-server', 'daemon tests', { PATH: empty, CI: 'true' }, (l) => lines.push(l)))
      .toThrow('daemon tests: cannot run: redis-server is not on the PATH (apt-get install redis-server); CI=true, so a missing tool fails the run');
    expect(lines).toEqual([]);
  });
});
