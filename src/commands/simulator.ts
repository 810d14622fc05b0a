import { describeIssue } from '../config/issues.js';
import { simulatorOptionsSchema, startSimulator, type Simulator } from '../simulator/index.js';
import { FatalError } from '../util/fatal-error.js';
import { UsageError } from '../util/usage-error.js';

/** `flarewatch simulator`: its --options as one-line usage errors, a port in use as one line. */
export async function simulatorCommand(o: { port: number; host: string; seed: number; options: string }): Promise<Simulator> {
  let extra: unknown;
  try {
    extra = JSON.parse(o.options);
  } catch {
    throw new UsageError(`simulator: --options is not valid JSON (e.g. '{"size":{"accounts":5}}')`);
  }
  if (!extra || typeof extra !== 'object' || Array.isArray(extra)) throw new UsageError('simulator: --options must be a JSON object');
  const parsed = simulatorOptionsSchema.safeParse({ ...extra, port: o.port, host: o.host, seed: o.seed });
  if (!parsed.success) {
    const naming = { name: (p: string) => `--options ${p}`, valueAt: () => undefined, isSecret: () => true };
    throw new UsageError(`simulator: ${parsed.error.issues.flatMap((i) => describeIssue(i, naming)).join('; ')}`);
  }
  try {
    return await startSimulator(parsed.data);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new FatalError(`simulator: port ${o.port} on ${o.host} is in use: choose another with --port (0 picks a free one)`);
    if (code === 'EADDRNOTAVAIL' || code === 'EACCES') throw new FatalError(`simulator: cannot listen on ${o.host}:${o.port} (${code})`);
    throw err;
  }
}
