import type { Context } from '../context.js';
import { credentialRows } from '../db/queries/credentials.js';
import { kindFromPrefix } from './detect.js';
import type { CredentialKind } from './types.js';

/** Each configured credential's kind as far as known: this process, then the database, then the token prefix. */
export async function knownKinds(ctx: Context): Promise<Map<string, CredentialKind | undefined>> {
  const rows = new Map((await credentialRows(ctx.db)).map((r) => [r.name, r]));
  return new Map(
    ctx.credentials.map((c) => {
      const row = rows.get(c.name);
      const kind = c.identity?.kind ?? row?.kind ?? (c.config.apiToken ? kindFromPrefix(c.config.apiToken) : 'global-key');
      return [c.name, kind ?? undefined] as const;
    }),
  );
}

/** Credentials whose last verification failed (they walk nothing until they verify again). */
export async function failingCredentials(ctx: Context): Promise<Set<string>> {
  const rows = await credentialRows(ctx.db);
  return new Set(rows.filter((r) => r.status !== 'active' && ctx.now().getTime() - (r.lastVerifiedAt?.getTime() ?? 0) <= ctx.config.sync.credentialVerifyInterval).map((r) => r.name));
}
