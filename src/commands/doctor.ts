import type { Context } from '../context.js';
import { type Check, credentialChecks } from '../doctor/credentials.js';
import { remediationChecks } from '../doctor/remediation.js';
import { accessPictureChecks } from '../doctor/access.js';
import { databaseCheck, redisCheck, sinkChecks } from '../doctor/services.js';

export const formatCheck = (c: Check) => `${c.ok ? '✓' : '✗'} ${c.what}: ${c.detail}`;

/**
 * `flarewatch doctor`: each credential (kind, verify, one request per stream endpoint it would
 * walk), the database, each account's access picture (once walked), Redis when set, and every alert sink. One line per check; exit 1 on any failure.
 */
export async function doctorCommand(ctx: Omit<Context, 'db'>, opts: { send?: boolean }): Promise<{ output: string; exitCode: number }> {
  const checks: Check[] = [];
  checks.push(...(await credentialChecks(ctx as Context)));
  checks.push(...(await remediationChecks(ctx)));
  const database = await databaseCheck(ctx.config);
  checks.push(database);
  if (database.ok) checks.push(...(await accessPictureChecks(ctx.config)));
  const redis = await redisCheck(ctx.config);
  if (redis) checks.push(redis);
  checks.push(...(await sinkChecks(ctx.config, ctx.log, opts.send === true)));
  const failed = checks.filter((c) => !c.ok).length;
  const summary = `${checks.length} checks, ${failed} failed`;
  return { output: [...checks.map(formatCheck), '', summary].join('\n'), exitCode: failed ? 1 : 0 };
}
