import type { Context } from '../context.js';
import { secretValues } from '../config.js';
import { errorText, sinkContext } from '../alerts/deliver.js';
import { sampleAlert } from '../alerts/sample.js';
import { sendTo } from '../alerts/sinks/index.js';
import { UsageError } from '../util/usage-error.js';

/** `flarewatch alerts test <sink>`: send a sample alert through one configured sink, now. */
export async function alertsTestCommand(ctx: Pick<Context, 'config' | 'log' | 'now' | 'signal'>, name: string): Promise<{ output: string; exitCode: number }> {
  const setup = ctx.config.alerts.sinks[name];
  if (!setup) {
    const known = Object.keys(ctx.config.alerts.sinks).join(', ') || 'none';
    throw new UsageError(`alerts test: no sink named "${name}" (configured: ${known})`);
  }
  try {
    const res = await sendTo(setup.kind, sampleAlert({}, ctx.now()), setup.settings, sinkContext(ctx, name));
    return { output: `${name} (${setup.kind}): sent${res.detail ? ` — ${errorText(res.detail, secretValues(ctx.config))}` : ''}`, exitCode: 0 };
  } catch (err) {
    return { output: `${name} (${setup.kind}): FAILED — ${errorText(err, secretValues(ctx.config))}`, exitCode: 1 };
  }
}
