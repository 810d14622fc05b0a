import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { buildLogPayload } from '../../src/alerts/sinks/log.js';
import { sampleAlert } from '../../src/alerts/sample.js';
import { barProgress } from '../../src/commands/progress.js';
import { createLogger } from '../../src/log.js';
import { createTerminal } from '../../src/util/terminal.js';

/** A terminal that records what is written to it (escape sequences included). */
function fakeTty(columns = 100) {
  let text = '';
  const stream = new Writable({ write(chunk, _e, cb) { text += String(chunk); cb(); } }) as unknown as NodeJS.WriteStream;
  Object.assign(stream, { isTTY: true, columns, rows: 40 });
  return { stream, text: () => text };
}
const plain = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
const STREAM = 'account-audit-v1:0123456789abcdef0123456789abcdef';

describe('a long backfill on a terminal', () => {
  it('log lines go through the progress bars, and stream names are not cut', async () => {
    const tty = fakeTty(100);
    const terminal = createTerminal(tty.stream);
    const log = createLogger({ level: 'info', format: 'pretty', secrets: [], terminal });
    const progress = barProgress(terminal, tty.stream);
    const window = { windowSince: '2026-01-01T00:00:00.000Z', windowBefore: '2026-01-03T00:00:00.000Z' };
    progress.update({ stream: STREAM, entries: 1000, pages: 1, position: '2026-01-02T00:00:00.000Z', ...window });
    progress.update({ stream: 'user-audit', entries: 10, pages: 1, position: '2026-01-01T12:00:00.000Z', ...window });
    log.warn({ stream: 'members:abc' }, 'a stream failed while the bars were drawn');
    progress.update({ stream: STREAM, entries: 2000, pages: 2, position: '2026-01-02T12:00:00.000Z', ...window });
    progress.stop();
    const lines = plain(tty.text()).split(/\r?\n/);
    // The log line is whole, on a line of its own, not spliced into a bar.
    const logLine = lines.find((l) => l.includes('a stream failed while the bars were drawn'))!;
    expect(logLine).toBeDefined();
    expect(logLine).not.toMatch(/[█░]/);
    expect(logLine).toContain('members:abc');
    // The bar line keeps the whole stream name, and fits the terminal.
    const bar = lines.filter((l) => l.includes(STREAM)).at(-1)!;
    expect(bar.startsWith(STREAM)).toBe(true);
    expect(bar).toMatch(/75% 2000 entries/);
    expect(bar.length).toBeLessThanOrEqual(100);
  });

  it('the log sink prints one short line per alert on a terminal', () => {
    const tty = fakeTty();
    const log = createLogger({ level: 'info', format: 'pretty', secrets: [], terminal: createTerminal(tty.stream) });
    const { obj, msg } = buildLogPayload(sampleAlert({}, new Date('2026-01-01T00:00:00Z')), { digestMaxEvents: 100 });
    log.warn(obj, msg);
    const lines = plain(tty.text()).trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(msg);
    expect(lines[0]!.length).toBeLessThan(200);
  });
});
