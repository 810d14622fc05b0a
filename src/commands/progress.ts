import cliProgress from 'cli-progress';
import type { ProgressSink, WalkProgress } from '../context.js';
import type { Logger } from '../log.js';
import { windowFraction } from '../sync/audit-window.js';

const LOG_EVERY_MS = 10_000;

/**
 * Progress of long walks (audit backfills): a bar per stream on a TTY, otherwise a log
 * line per stream every 10 seconds. ETA is from the share of the time window covered.
 */
export function createProgress(log: Logger, tty = Boolean(process.stderr.isTTY)): ProgressSink & { stop(): void } {
  return tty ? barProgress() : logProgress(log);
}

function describe(p: WalkProgress, startedAt: number) {
  const elapsed = (Date.now() - startedAt) / 1000;
  const fraction = windowFraction({ since: p.windowSince, before: p.windowBefore }, p.position);
  const rate = elapsed > 0 ? Math.round(p.entries / elapsed) : 0;
  const eta = fraction > 0.01 && fraction < 1 ? Math.round((elapsed / fraction) * (1 - fraction)) : undefined;
  return { fraction, rate, eta, covered: p.position?.slice(0, 19) ?? p.windowSince.slice(0, 19) };
}

function barProgress(): ProgressSink & { stop(): void } {
  const bars = new cliProgress.MultiBar(
    {
      format: '{stream} |{bar}| {percentage}% | {entries} entries, {pages} pages, {rate}/s | up to {covered} | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  const active = new Map<string, { bar: cliProgress.SingleBar; startedAt: number }>();
  return {
    update(p) {
      let entry = active.get(p.stream);
      if (!entry) {
        entry = { bar: bars.create(1000, 0), startedAt: Date.now() };
        active.set(p.stream, entry);
      }
      const d = describe(p, entry.startedAt);
      entry.bar.update(Math.round((p.done ? 1 : d.fraction) * 1000), { stream: p.stream.padEnd(20).slice(0, 44), entries: p.entries, pages: p.pages, rate: d.rate, covered: d.covered });
    },
    stop: () => bars.stop(),
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
