import type { Context } from '../context.js';
import { liveAccess } from '../db/queries/account-access.js';
import { knownKinds } from '../credentials/kinds.js';
import { byPreference } from '../credentials/preference.js';

/**
 * Per account, the credential that will walk its streams as far as the database knows (the walker
 * choice's preference over the credentials that reach it), for planning streams never walked yet.
 * Without it the plan charged every new account's streams to the first credential's budget: in a
 * round that discovers many accounts, one budget was planned far past its share (a debt its later
 * rounds paid back by deferring) and the others' new streams were not counted against them.
 */
export async function likelyWalkers(ctx: Context): Promise<Map<string, string>> {
  const kinds = await knownKinds(ctx);
  const order = ctx.credentials.map((c) => c.name);
  const reach = new Map<string, string[]>();
  for (const r of await liveAccess(ctx.db)) if (order.includes(r.credential)) reach.set(r.accountId, [...(reach.get(r.accountId) ?? []), r.credential]);
  return new Map([...reach].map(([account, names]) => [account, byPreference(names.map((name) => ({ name, kind: kinds.get(name) })), order)[0]!.name]));
}
