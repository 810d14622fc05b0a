import type { Evidence } from './evidence.js';

// What every human-readable export shows first, in the same words, whatever its markup.

/** The time of the stream least recently synced: how old the oldest part of the snapshot may be. */
export function oldestSuccess(e: Pick<Evidence, 'freshness'>): string {
  const times = e.freshness.map((f) => f.last_success_at ?? '').sort();
  return times[0] === '' ? 'never (a stream never succeeded)' : (times[0] ?? '');
}

export const scopeText = (e: Evidence) =>
  (e.scope.all_watched_accounts ? 'all watched accounts: ' : '') + e.scope.accounts.map((a) => (a.name ? `${a.name} (${a.id})` : a.id)).join(', ');

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/**
 * The members reviewed, and what they are: account memberships by status (a pending invitation is
 * reviewed too: accepted, it grants its roles) and organization members holding access without one.
 */
export function memberCounts(e: Pick<Evidence, 'items'>): string {
  const kinds = new Map<string, number>();
  for (const i of e.items.filter((x) => x.kind === 'member')) {
    const k = 'organization_id' in i.snapshot ? 'organization' : String(i.snapshot.status ?? 'unknown');
    kinds.set(k, (kinds.get(k) ?? 0) + 1);
  }
  const total = [...kinds.values()].reduce((a, b) => a + b, 0);
  return total ? `${total}: ${memberKindsText(kinds)}` : '0';
}

/** "36 accepted, 9 pending invitations, 1 organization member", from counts by status ('organization': organization members). */
export function memberKindsText(kinds: Map<string, number>): string {
  const parts = [...kinds].filter(([k]) => k !== 'organization').sort(([a], [b]) => a.localeCompare(b))
    .map(([st, n]) => (st === 'pending' ? plural(n, 'pending invitation', 'pending invitations') : `${n} ${st}`));
  const org = kinds.get('organization') ?? 0;
  if (org) parts.push(`${plural(org, 'organization member', 'organization members')} with access to an account`);
  return parts.join(', ');
}

/** The pack's summary as label/value rows. */
export const summaryRows = (e: Evidence): Array<[string, string | number]> => {
  const s = e.summary;
  return [
    ['Snapshot taken', `${e.generated_at} (every item is as it was at this time)`],
    ['Scope', scopeText(e)],
    ['Started by', e.review.started_by ?? ''],
    ['Previous review', e.review.previous_review ?? 'none'],
    ['Items', `${s.items}: ${s.members} members, ${s.tokens} tokens`],
    ['Members', memberCounts(e)],
    ['Decided', `${s.decided} (${s.keep} keep, ${s.revoke} revoke), ${s.undecided} undecided`],
    ['Decisions recorded through', s.decisions_through ?? 'none yet'],
    ['Open findings on them', s.findings],
    ['Oldest stream success', oldestSuccess(e)],
  ];
};

/** Every decision on every item, in the order recorded (item, label, decision, by, at, note). */
export const decisionHistory = (e: Evidence): string[][] =>
  e.items.flatMap((i) => i.decisions.map((d) => [i.key, i.label, d.decision, d.by, d.at, d.note ?? '']));
