// `flarewatch review verify <pack>`: checks an exported JSON evidence pack offline (no database,
// no configuration): its digest, its signature, its decision chain, and that the items' decisions
// are the chain's. With an earlier pack of the same review, also that the chain only grew.
import { createHash, createPublicKey } from 'node:crypto';
import { type ChainEntry, chainBreaks } from './chain.js';
import { digestInput, type Evidence } from './evidence.js';
import { fingerprint, signatureValid } from './signing.js';

export interface VerifyOptions {
  /** The public key (PEM) the pack must be signed with: the pack's own key proves only that someone signed it. */
  publicKey?: string;
  /** An earlier export of the same review: its chain must be the start of this one. */
  previous?: Evidence;
}

export interface VerifyReport {
  ok: boolean;
  checks: Array<{ what: string; ok: boolean; detail: string }>;
}

const isoSecond = (iso: string) => iso.replace(/\.\d{3}Z$/, 'Z');

/** The items' decisions must be exactly the chain's (the pack could otherwise show other decisions than it chains). */
function itemsMatchChain(e: Evidence): string[] {
  const problems: string[] = [];
  const byItem = new Map<string, ChainEntry[]>();
  for (const c of [...e.chain.decisions].sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.id - b.id)) byItem.set(c.item_key, [...(byItem.get(c.item_key) ?? []), c]);
  for (const item of e.items) {
    const chained = (byItem.get(item.key) ?? []).map((c) => ({ decision: c.decision, by: c.by, at: isoSecond(c.at), note: c.note }));
    if (JSON.stringify(chained) !== JSON.stringify(item.decisions)) problems.push(`item ${item.key}: its decisions are not the chained ones`);
    byItem.delete(item.key);
  }
  for (const key of byItem.keys()) problems.push(`the chain has decisions on ${key}, which is no item of the pack`);
  return problems;
}

function prefixOf(previous: Evidence, e: Evidence): string[] {
  if (previous.review.id !== e.review.id) return [`the earlier pack is of review ${previous.review.id}, this one of review ${e.review.id}`];
  const problems: string[] = [];
  for (const old of previous.chain.decisions) {
    const now = e.chain.decisions[old.seq - 1];
    if (!now || now.hash !== old.hash) problems.push(`decision #${old.seq} (id ${old.id}, ${old.item_key}) is not what the earlier pack recorded: the chain was rewritten since`);
  }
  return problems;
}

export function verifyPack(text: string, o: VerifyOptions = {}): VerifyReport {
  const checks: VerifyReport['checks'] = [];
  const add = (what: string, problems: string[], fine: string) => checks.push({ what, ok: problems.length === 0, detail: problems.length ? problems.join('; ') : fine });
  let e: Evidence;
  try {
    e = JSON.parse(text) as Evidence;
  } catch (err) {
    return { ok: false, checks: [{ what: 'pack', ok: false, detail: `not JSON: ${(err as Error).message}` }] };
  }
  if (e.format !== 'flarewatch-access-review/2' || !e.chain || !Array.isArray(e.chain.decisions)) {
    return { ok: false, checks: [{ what: 'pack', ok: false, detail: `not a signed evidence pack (format ${JSON.stringify(e.format)}; export it again with \`npx flarewatch review export --format json\`)` }] };
  }
  const digest = createHash('sha256').update(digestInput(e)).digest('hex');
  add('digest', digest === e.digest ? [] : [`the pack's content does not give its digest (${e.digest.slice(0, 12)}…): it was edited after export`], `sha256 ${digest}`);
  const sig = e.signature;
  const sigProblems = !sig ? ['the pack is not signed'] : !signatureValid(e.digest, sig) ? ['the signature does not match the digest or the key'] : [];
  if (sig && o.publicKey) {
    const expected = fingerprint(createPublicKey(o.publicKey));
    if (expected !== sig.key_fingerprint || fingerprint(createPublicKey(sig.public_key)) !== expected) sigProblems.push(`signed by key ${sig.key_fingerprint.slice(0, 16)}…, not by the key given (${expected.slice(0, 16)}…)`);
  }
  add('signature', sigProblems, `ed25519, key ${sig?.key_fingerprint}${o.publicKey ? ' (the key given)' : ' (compare this fingerprint with the key you keep, or pass --public-key)'}`);
  const head = e.chain.decisions.at(-1);
  const headProblems = (head?.hash ?? null) !== (e.chain.head?.hash ?? null) ? ['the chain head is not its last decision'] : [];
  add('chain', [...chainBreaks(e.review.id, e.chain.decisions), ...headProblems], `${e.chain.decisions.length} decision(s), continuous${head ? `, head #${head.seq} ${head.hash}` : ''}`);
  add('items', itemsMatchChain(e), 'every item shows exactly its chained decisions');
  if (o.previous) add('earlier pack', prefixOf(o.previous, e), `its ${o.previous.chain.decisions.length} decision(s) are unchanged at the start of this chain`);
  return { ok: checks.every((c) => c.ok), checks };
}

export const WHAT_IT_PROVES = [
  'What a valid pack proves: it is, byte for byte, what a holder of the signing key exported; every decision in it',
  'is linked to the one before, so a decision edited, removed or reordered in the database after it was recorded',
  'shows as a break, unless the whole chain was recomputed after that edit, which an earlier exported pack of the',
  'same review exposes (--previous <pack>: its chain must be the start of this one).',
  'What it does not prove: that the database was not edited before a chain was first exported (keep the packs you',
  'export); anything about a holder of the signing key (they can sign whatever they like); that the frozen items',
  'and findings match Cloudflare at the time (they are as flarewatch recorded them).',
];
