import { createHash } from 'node:crypto';
import { CONTROLS, REVIEW_CONTROLS, controlLabel } from '../compliance/controls.js';
import type { Review, ReviewDecision, ReviewFinding, ReviewItem } from '../db/schema/index.js';
import type { RemediationRecord } from '../remediation/evidence.js';
import { SEVERITIES } from '../rules/types.js';
import { type ChainEntry, GENESIS } from './chain.js';
import type { PackSignature } from './signing.js';

// Pure: a review's evidence pack from what the review froze and the decisions recorded on it.
// It reads nothing that a later sync changes, and nothing in it depends on when it is exported,
// so the same review always gives the same pack (the same digest). The digest only shows the pack
// is whole; the chain and the signature (chain.ts, signing.ts, verify.ts) show whether it was forged.

type Obj = Record<string, unknown>;

export interface Decision { decision: 'keep' | 'revoke'; by: string; at: string; note: string | null }

export interface EvidenceItem {
  key: string;
  kind: 'member' | 'token';
  account_id: string | null;
  account_name: string | null;
  label: string;
  /** What was signed off, as frozen. */
  snapshot: Obj;
  findings: number[];
  /** The decision in force (the latest), or null while undecided. */
  decision: Decision | null;
  /** Every decision recorded, oldest first. */
  decisions: Decision[];
}

export interface EvidenceFinding {
  id: number; rule_id: string; kind: string; severity: string; title: string; resource_key: string; resource_name: string | null;
  account_id: string | null; item_key: string | null; suppressed: boolean; suppression_reason: string | null; first_seen_at: string;
  controls: string[]; facts: unknown;
}

export interface Evidence {
  format: 'flarewatch-access-review/2';
  review: { id: number; name: string; started_by: string | null; previous_review: number | null };
  /** When the snapshot was taken: what every item shows is as of this instant. */
  generated_at: string;
  scope: { accounts: Array<{ id: string; name: string | null }>; all_watched_accounts: boolean };
  /** Each stream the snapshot comes from, with its last success when it was taken. */
  freshness: Array<{ stream: string; last_success_at: string | null; last_error_at: string | null; last_error: string | null }>;
  summary: { items: number; members: number; tokens: number; decided: number; keep: number; revoke: number; undecided: number; findings: number; decisions_through: string | null };
  controls: Array<{ ref: string; label: string; title: string; evidence: string[] }>;
  items: EvidenceItem[];
  findings: EvidenceFinding[];
  /** What was done about the revocations: plans made from this review, approvals, outcomes (src/remediation/evidence.ts). */
  remediation: RemediationRecord[];
  /** The review's decisions as the database chained them (src/review/chain.ts), in chain order, and its head. */
  chain: { algorithm: 'sha256, canonical JSON'; genesis: string; head: { seq: number; hash: string } | null; decisions: ChainEntry[] };
  /**
   * sha256 of the compact JSON (JSON.stringify, no indentation) of this pack without `digest` and
   * `signature`: not of the exported file, which is indented. A checksum, not a proof: the signature is.
   */
  digest: string;
  /** Ed25519 over the digest (JSON exports; src/review/signing.ts). */
  signature?: PackSignature;
}

/** The text the digest is taken over: the compact JSON of the pack without its digest and signature. */
export function digestInput(pack: Evidence | Omit<Evidence, 'digest'>): string {
  const { digest: _d, signature: _s, ...rest } = pack as Evidence;
  return JSON.stringify(rest);
}

const chainOf = (decisions: ReviewDecision[]): ChainEntry[] =>
  [...decisions]
    .sort((a, b) => a.chainSeq - b.chainSeq)
    .map((d) => ({
      seq: d.chainSeq, id: d.id, item_key: d.itemKey, decision: d.decision, by: d.decidedBy, at: d.decidedAt.toISOString(), note: d.note, prev: d.prevHash, hash: d.rowHash,
    }));

const isoOf = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const rank = (s: string) => SEVERITIES.indexOf(s as (typeof SEVERITIES)[number]);
// Code-point order, not the locale's: the pack must sort the same on every machine.
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function decisionsByItem(decisions: ReviewDecision[]): Map<string, Decision[]> {
  const out = new Map<string, Decision[]>();
  const sorted = [...decisions].sort((a, b) => a.decidedAt.getTime() - b.decidedAt.getTime() || a.id - b.id);
  for (const d of sorted) out.set(d.itemKey, [...(out.get(d.itemKey) ?? []), { decision: d.decision, by: d.decidedBy, at: isoOf(d.decidedAt), note: d.note }]);
  return out;
}

function controlsSection(findings: EvidenceFinding[]): Evidence['controls'] {
  const evidence = new Map<string, Set<string>>(REVIEW_CONTROLS.map((c) => [c, new Set(['this access review'])]));
  for (const f of findings) for (const c of f.controls) evidence.set(c, (evidence.get(c) ?? new Set()).add(`rule ${f.rule_id}`));
  return [...evidence.keys()].sort(cmp).map((ref) => ({ ref, label: controlLabel(ref), title: CONTROLS[ref] ?? '', evidence: [...evidence.get(ref)!].sort() }));
}

export function buildEvidence(review: Review, items: ReviewItem[], findings: ReviewFinding[], decisions: ReviewDecision[], remediation: RemediationRecord[] = []): Evidence {
  const byItem = decisionsByItem(decisions);
  const evFindings: EvidenceFinding[] = [...findings]
    .sort((a, b) => rank(b.severity) - rank(a.severity) || cmp(a.ruleId, b.ruleId) || cmp(a.resourceKey, b.resourceKey) || a.findingId - b.findingId)
    .map((f) => ({
      id: f.findingId, rule_id: f.ruleId, kind: f.kind, severity: f.severity, title: f.title, resource_key: f.resourceKey, resource_name: f.resourceName,
      account_id: f.accountId, item_key: f.itemKey, suppressed: f.suppressed, suppression_reason: f.suppressionReason, first_seen_at: isoOf(f.firstSeenAt),
      controls: [...f.controls].sort(), facts: f.facts,
    }));
  const evItems: EvidenceItem[] = items
    .map((i) => {
      const s = i.snapshot as Obj;
      const all = byItem.get(i.itemKey) ?? [];
      return {
        key: i.itemKey, kind: i.kind, account_id: i.accountId, account_name: (s.account_name as string | null) ?? null, label: i.label, snapshot: s,
        findings: evFindings.filter((f) => f.item_key === i.itemKey).map((f) => f.id), decision: all.at(-1) ?? null, decisions: all,
      };
    })
    .sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'member' ? -1 : 1) || cmp(a.account_name ?? '', b.account_name ?? '') || cmp(a.label, b.label) || cmp(a.key, b.key));
  const names = new Map(evItems.filter((i) => i.account_id).map((i) => [i.account_id!, i.account_name]));
  const accountIds = review.accounts ?? [...names.keys()].sort();
  const decided = evItems.filter((i) => i.decision);
  const through = decisions.length ? isoOf(new Date(Math.max(...decisions.map((d) => d.decidedAt.getTime())))) : null;
  const pack: Omit<Evidence, 'digest'> = {
    format: 'flarewatch-access-review/2',
    review: { id: review.id, name: review.name, started_by: review.startedBy, previous_review: review.previousId },
    generated_at: isoOf(review.startedAt),
    scope: { accounts: accountIds.map((id) => ({ id, name: names.get(id) ?? null })), all_watched_accounts: review.accounts === null },
    freshness: review.freshness as Evidence['freshness'],
    summary: {
      items: evItems.length, members: evItems.filter((i) => i.kind === 'member').length, tokens: evItems.filter((i) => i.kind === 'token').length,
      decided: decided.length, keep: decided.filter((i) => i.decision!.decision === 'keep').length, revoke: decided.filter((i) => i.decision!.decision === 'revoke').length,
      undecided: evItems.length - decided.length, findings: evFindings.length, decisions_through: through,
    },
    controls: controlsSection(evFindings),
    items: evItems,
    findings: evFindings,
    chain: { algorithm: 'sha256, canonical JSON', genesis: GENESIS, head: null, decisions: chainOf(decisions) },
    remediation,
  };
  const last = pack.chain.decisions.at(-1);
  pack.chain.head = last ? { seq: last.seq, hash: last.hash } : null;
  return { ...pack, digest: createHash('sha256').update(digestInput(pack)).digest('hex') };
}
