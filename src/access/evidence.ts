/**
 * Whether the archive can speak for a token's whole window. Pure (unit-tested in
 * test/unit/access-evidence.test.ts). The absence of a write is evidence only where the archive
 * holds every v2 entry of the window: for each account the token's grants reach, the account's
 * v2 stream must have been walked from before the window began, up to (nearly) now, with no day
 * `audit verify` found missing entries on. Anything less and the rule says nothing (the safe
 * reading: a suggested narrowing that removes access still in use breaks someone's automation).
 */

export interface Coverage {
  account_id: string;
  covered_from: Date | null;
  covered_to: Date | null;
  /** Days (YYYY-MM-DD) with entries Cloudflare serves that the archive lacks, not repaired. */
  gap_days: string[];
}

export interface TokenScope { owner_type: string; account_id: string | null; policies: unknown }

/** How far behind now the archive may be and still speak for the window: audit streams run every few minutes. */
export const MAX_ARCHIVE_LAG_MS = 86_400_000;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const ACCOUNT = /^com\.cloudflare\.api\.account\.([^.]+)$/;
const ZONE = /^com\.cloudflare\.api\.account\.zone\.([^.]+)$/;

/**
 * The accounts whose v2 logs would show the token's writes. An account-owned token acts in its
 * account only. A user token reaches the accounts its allow policies name, and the accounts of
 * the zones they name; a wildcard, or a zone flarewatch has not inventoried, reaches every
 * account flarewatch watches (`all`).
 */
export function evidenceAccounts(t: TokenScope, zoneAccount: ReadonlyMap<string, string>, all: readonly string[]): string[] {
  if (t.owner_type === 'account' && t.account_id) return [t.account_id];
  const found = new Set<string>();
  let everywhere = false;
  for (const p of Array.isArray(t.policies) ? t.policies : []) {
    if (!isObj(p) || String(p.effect ?? p.access).toLowerCase() !== 'allow' || !isObj(p.resources)) continue;
    const keys = Object.entries(p.resources).flatMap(([k, v]) => [k, ...(isObj(v) ? Object.keys(v) : [])]);
    for (const key of keys) {
      const zone = ZONE.exec(key)?.[1];
      const account = zone ? undefined : ACCOUNT.exec(key)?.[1];
      if (zone && zone !== '*' && zoneAccount.has(zone)) found.add(zoneAccount.get(zone)!);
      else if (account && account !== '*') found.add(account);
      else if (key.startsWith('com.cloudflare.api.account')) everywhere = true;
    }
  }
  if (everywhere) all.forEach((a) => found.add(a));
  return [...found].sort();
}

/** Why the archive cannot speak for [windowStart, now] in these accounts, or undefined when it can. */
export function coverageProblem(accounts: readonly string[], coverage: ReadonlyMap<string, Coverage>, windowStart: Date, now: Date): string | undefined {
  if (accounts.length === 0) return 'the token reaches no account whose audit log flarewatch archives';
  const startDay = windowStart.toISOString().slice(0, 10);
  for (const id of accounts) {
    const c = coverage.get(id);
    if (!c || !c.covered_from || !c.covered_to) return `account ${id}: its audit log v2 has not been archived`;
    if (c.covered_from > windowStart) return `account ${id}: the archive holds its audit log v2 from ${c.covered_from.toISOString()} only, after the window's start ${windowStart.toISOString()}`;
    if (c.covered_to.getTime() < now.getTime() - MAX_ARCHIVE_LAG_MS) return `account ${id}: the archive of its audit log v2 stops at ${c.covered_to.toISOString()}`;
    const gaps = c.gap_days.filter((d) => d >= startDay);
    if (gaps.length) return `account ${id}: audit verify found entries missing from the archive on ${gaps.join(', ')}`;
  }
  return undefined;
}

/** Where the evidence ends: the earliest watermark of the accounts (all within MAX_ARCHIVE_LAG_MS of now). */
export function evidenceEnd(accounts: readonly string[], coverage: ReadonlyMap<string, Coverage>, now: Date): Date {
  const ends = accounts.map((a) => coverage.get(a)?.covered_to?.getTime() ?? now.getTime());
  return new Date(Math.min(now.getTime(), ...ends));
}
