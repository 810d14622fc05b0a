import type { Context } from '../context.js';
import { type AlertsResult, runAlerts } from '../alerts/deliver.js';
import { runDigest } from '../alerts/digest.js';

/** One line per sink: "slack  sent 3  failed 0  dead 0  pending 1". */
export function formatAlertsSummary(r: AlertsResult): string {
  if (!r.sinks.length) return '  no alert sinks configured';
  const width = Math.max(...r.sinks.map((s) => s.sink.length));
  const lines = r.sinks.map((s) => {
    const err = s.lastError ? `  (${s.lastError})` : '';
    return `  ${s.sink.padEnd(width)}  sent ${s.sent}  failed ${s.failed}  dead ${s.dead}  pending ${s.pending}${err}`;
  });
  if (r.reminders) lines.unshift(`  reminders queued: ${r.reminders}`);
  return lines.join('\n');
}

/** `flarewatch alert [--digest]`: deliver what is due once (and the digest now). Exit 1 if a send failed. */
export async function alertCommand(ctx: Context, opts: { digest?: boolean }): Promise<{ output: string; exitCode: number }> {
  const results = [await runAlerts(ctx)];
  if (opts.digest) results.push(await runDigest(ctx));
  const output = [`alerts:\n${formatAlertsSummary(results[0]!)}`, ...(opts.digest ? [`digest:\n${formatAlertsSummary(results[1]!)}`] : [])].join('\n');
  const failed = results.some((r) => r.sinks.some((s) => s.failed + s.dead > 0));
  return { output, exitCode: failed ? 1 : 0 };
}
