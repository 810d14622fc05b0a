import type { Evidence } from './evidence.js';

// What every human-readable export shows first, in the same words, whatever its markup.

/** The time of the stream least recently synced: how old the oldest part of the snapshot may be. */
export function oldestSuccess(e: Pick<Evidence, 'freshness'>): string {
  const times = e.freshness.map((f) => f.last_success_at ?? '').sort();
  return times[0] === '' ? 'never (a stream never succeeded)' : (times[0] ?? '');
}

export const scopeText = (e: Evidence) =>
  (e.scope.all_watched_accounts ? 'all watched accounts: ' : '') + e.scope.accounts.map((a) => (a.name ? `${a.name} (${a.id})` : a.id)).join(', ');

/** The pack's summary as label/value rows. */
export const summaryRows = (e: Evidence): Array<[string, string | number]> => {
  const s = e.summary;
  return [
    ['Snapshot taken', `${e.generated_at} (every item is as it was at this time)`],
    ['Scope', scopeText(e)],
    ['Started by', e.review.started_by ?? ''],
    ['Previous review', e.review.previous_review ?? 'none'],
    ['Items', `${s.items}: ${s.members} members, ${s.tokens} tokens`],
    ['Decided', `${s.decided} (${s.keep} keep, ${s.revoke} revoke), ${s.undecided} undecided`],
    ['Decisions recorded through', s.decisions_through ?? 'none yet'],
    ['Open findings on them', s.findings],
    ['Oldest stream success', oldestSuccess(e)],
  ];
};

/** Every decision on every item, in the order recorded (item, label, decision, by, at, note). */
export const decisionHistory = (e: Evidence): string[][] =>
  e.items.flatMap((i) => i.decisions.map((d) => [i.key, i.label, d.decision, d.by, d.at, d.note ?? '']));
