import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, withoutBound } from '../../src/log.js';

/** The keys of the top-level object of a JSON line, repeats included (JSON.parse keeps only the last). */
const topKeys = (line: string) => [...line.matchAll(/[{,]"([^"]+)":/g)].map((m) => m[1]!);

describe('log lines carry each key once', () => {
  it('a key bound by an outer scope is not written again; a different inner value is kept apart', () => {
    expect(withoutBound({ stream: 'a', page: 1 }, { stream: 'a' })).toEqual({ page: 1 });
    expect(withoutBound({ attempt: 3 }, { attempt: 1 })).toEqual({ inner_attempt: 3 });
    const fields = { page: 1 };
    expect(withoutBound(fields, { stream: 'a' })).toBe(fields);
  });

  it('nested children and a line repeating a binding write it once, secrets still scrubbed', () => {
    const lines: string[] = [];
    const sink = new Writable({ write(c, _e, cb) { lines.push(String(c)); cb(); } });
    const log = createLogger({ level: 'info', format: 'json', secrets: ['s3cr3t-value'], destination: sink });
    const job = log.child({ queue: 'sync', stream: 'members:1', attempt: 1 });
    const walk = job.child({ stream: 'members:1' });
    walk.info({ stream: 'members:1', rows: 3, attempt: 2, note: 'token s3cr3t-value' }, 'walk succeeded');
    walk.info('plain');
    for (const line of lines) {
      const keys = topKeys(line);
      expect(new Set(keys).size, line).toBe(keys.length);
    }
    expect(JSON.parse(lines[0]!)).toMatchObject({ queue: 'sync', stream: 'members:1', attempt: 1, inner_attempt: 2, rows: 3, note: 'token [REDACTED]', msg: 'walk succeeded' });
  });
});
