import { and, isNull, sql } from 'drizzle-orm';
import type { Context } from '../context.js';
import { knownKinds } from '../credentials/kinds.js';
import type { CredentialKind } from '../credentials/types.js';
import { accounts } from '../db/schema/index.js';
import { pgTextArray } from '../db/queries/text-array.js';
import { ACCOUNT_STREAMS, GLOBAL_STREAMS, notApplicableReason, USER_LEVEL_KINDS } from './catalog.js';

export interface PlanInput {
  /** Stream kinds or full names; empty = every stream. */
  selection: string[];
  /** The credentials that may walk, in configuration order, with their kinds as far as known. */
  credentials: Array<{ name: string; kind: CredentialKind | undefined }>;
  /** Live, watched accounts some configured credential reaches. */
  accounts: string[];
}

export interface Plan {
  streams: string[];
  notApplicable: Array<{ stream: string; reason: string }>;
}

const kindOf = (name: string) => name.split(':', 1)[0]!;

/**
 * The streams of a round, by phase: `accounts` (what each credential reaches, walked first: the
 * account streams fan out over its result) and `rest`. User-level streams of an account-owned
 * token are not applicable: listed as such, never walked, never failures.
 */
export function planRound(input: PlanInput, phase: 'accounts' | 'rest' | 'all' = 'all'): Plan {
  const { selection } = input;
  const wants = (stream: string) => selection.length === 0 || selection.includes(kindOf(stream)) || selection.includes(stream);
  const plan: Plan = { streams: [], notApplicable: [] };
  const add = (stream: string) => {
    if (wants(stream) && !plan.streams.includes(stream)) plan.streams.push(stream);
  };
  if (phase !== 'rest') for (const c of input.credentials) add(`accounts:${c.name}`);
  if (phase === 'accounts') return plan;
  for (const c of input.credentials) {
    for (const kind of USER_LEVEL_KINDS) {
      const stream = `${kind}:${c.name}`;
      if (c.kind !== 'account-token') add(stream);
      else if (wants(stream)) plan.notApplicable.push({ stream, reason: notApplicableReason(kind, c.name) });
    }
  }
  if (input.credentials.some((c) => c.kind !== 'account-token')) for (const kind of Object.keys(GLOBAL_STREAMS)) add(kind);
  for (const id of input.accounts) for (const kind of Object.keys(ACCOUNT_STREAMS)) add(`${kind}:${id}`);
  // A full name asked for explicitly is walked even when the round would not plan it (a new account id).
  for (const name of selection) if (name.includes(':') && ACCOUNT_STREAMS[kindOf(name)]) add(name);
  return plan;
}

/** Live accounts inside the watch list that some configured credential reaches. */
export async function plannableAccounts(ctx: Context): Promise<string[]> {
  const configured = ctx.config.cloudflare.credentials.map((c) => c.name);
  if (!configured.length) return [];
  const rows = await ctx.db
    .select({ id: accounts.id })
    .from(accounts)
    .where(and(isNull(accounts.deletedAt), sql`exists (select 1 from account_access x where x.account_id = ${accounts.id} and x.deleted_at is null
      and x.credential = any(${pgTextArray(configured)}::text[]))`));
  const allow = ctx.config.cloudflare.accounts.map((a) => a.toLowerCase());
  return rows.map((r) => r.id).filter((id) => allow.length === 0 || allow.includes(id.toLowerCase())).sort();
}

/** Everything planning needs, read now: the credentials' kinds and the accounts to walk. */
export async function planInput(ctx: Context, selection: string[]): Promise<PlanInput> {
  const kinds = await knownKinds(ctx);
  return {
    selection,
    credentials: ctx.credentials.map((c) => ({ name: c.name, kind: kinds.get(c.name) })),
    accounts: await plannableAccounts(ctx),
  };
}
