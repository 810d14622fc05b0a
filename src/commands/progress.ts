import cliProgress from 'cli-progress';
import type { ProgressSink, WalkProgress } from '../context.js';
import type { Logger } from '../log.js';
import type { Terminal } from '../util/terminal.js';
import { windowFraction } from '../sync/audit-window.js';

const LOG_EVERY_MS = 10_000;

/**
 * Progress of long walks (audit backfills): a bar per stream on a TTY, otherwise a log
 * line per stream every 10 seconds. ETA is from the share of the time window covered.
 */
export function createProgress(log: Logger, terminal?: Terminal, tty = Boolean(process.stderr.isTTY)): ProgressSink & { stop(): void } {
  return tty ? barProgress(terminal, process.stderr) : logProgress(log);
}

function describe(p: WalkProgress, startedAt: number) {
  const elapsed = (Date.now() - startedAt) / 1000;
  const fraction = windowFraction({ since: p.windowSince, before: p.windowBefore }, p.position);
  const rate = elapsed > 0 ? Math.round(p.entries / elapsed) : 0;
  const eta = fraction > 0.01 && fraction < 1 ? Math.round((elapsed / fraction) * (1 - fraction)) : undefined;
  return { fraction, rate, eta, covered: p.position?.slice(0, 19) ?? p.windowSince.slice(0, 19) };
}

/**
 * A bar per stream. Stream names are never cut (an account stream's name is 49 characters):
 * they come first, padded to the longest, and the bar shrinks to fit the terminal. While bars
 * are drawn, log lines go through them (printed above), not across them.
 */
export function barProgress(terminal: Terminal | undefined, stream: NodeJS.WriteStream): ProgressSink & { stop(): void } {
  let bars: cliProgress.MultiBar | undefined;
  let width = 0;
  const active = new Map<string, { bar: cliProgress.SingleBar; startedAt: number }>();
  const start = () => {
    const columns = terminal?.columns() ?? stream.columns ?? 100;
    // Where it fits, how far through time the walk is ("to 2026-01-02T12:00").
    const wide = columns - width >= 95;
    const multi = new cliProgress.MultiBar(
      {
        format: `{stream} {bar} {percentage}% {entries} entries {rate}/s${wide ? ' to {covered}' : ''} ETA {eta_formatted}`,
        barsize: Math.max(8, Math.min(30, columns - width - (wide ? 62 : 42))),
        hideCursor: true,
        clearOnComplete: false,
        stream,
      },
      cliProgress.Presets.shades_classic,
    );
    terminal?.divert((line) => multi.log(line));
    return multi;
  };
  return {
    update(p) {
      let entry = active.get(p.stream);
      if (!entry) {
        width = Math.max(width, p.stream.length);
        bars ??= start();
        entry = { bar: bars.create(1000, 0), startedAt: Date.now() };
        active.set(p.stream, entry);
      }
      const d = describe(p, entry.startedAt);
      entry.bar.update(Math.round((p.done ? 1 : d.fraction) * 1000), { stream: p.stream.padEnd(width), entries: p.entries, pages: p.pages, rate: d.rate, covered: d.covered.slice(0, 16) });
    },
    stop: () => {
      // A redraw first, so log lines still buffered by the bars are printed before they go.
      bars?.update();
      bars?.stop();
      terminal?.divert();
    },
  };
}

function logProgress(log: Logger): ProgressSink & { stop(): void } {
  const last = new Map<string, { at: number; startedAt: number }>();
  return {
    update(p) {
      const now = Date.now();
      const seen = last.get(p.stream) ?? { at: 0, startedAt: now };
      if (!p.done && now - seen.at < LOG_EVERY_MS) {
        last.set(p.stream, seen);
        return;
      }
      last.set(p.stream, { at: now, startedAt: seen.startedAt });
      const d = describe(p, seen.startedAt);
      if (seen.at === 0 && p.done) return; // a walk that ended within the first interval needs no progress line
      log.info({ stream: p.stream, entries: p.entries, pages: p.pages, perSecond: d.rate, coveredUpTo: d.covered, percent: Math.round(d.fraction * 100), etaSeconds: d.eta }, 'audit backfill progress');
    },
    stop: () => undefined,
  };
}
