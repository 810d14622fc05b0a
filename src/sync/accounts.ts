import { and, eq, isNull } from 'drizzle-orm';
import { fetchEnvelope } from '../cloudflare/fetch-envelope.js';
import type { Tx } from '../db/client.js';
import { endAccess, endAccessOfOthers, lockAccounts, recordAccess } from '../db/queries/account-access.js';
import { cascadeDeletedAccounts, deleteUnreachedAccounts, deleteUnwatchedAccounts } from '../db/queries/accounts-reconcile.js';
import { upsertSnapshotRows } from '../db/queries/snapshot.js';
import { accountAccess, accounts } from '../db/schema/index.js';
import { askDetail, guard } from './deletions.js';
import { endVersions, storeVersions } from './history.js';
import { bool, date, obj, rawOf, str } from './fields.js';
import type { StreamJob, Walk } from './walk.js';
import { type SnapshotSpec, walkUntilJoined } from './snapshot.js';
import { accountHistory, memberHistory, tokenHistory } from '../history/trackers.js';

/** Watched: in FLAREWATCH_ACCOUNTS (when set) and in the credential's own `accounts` (when set). */
const watched = (w: Walk, id: string) => {
  const global = w.config.cloudflare.accounts.map((a) => a.toLowerCase());
  const own = w.credential.config.accounts;
  return (global.length === 0 || global.includes(id.toLowerCase())) && (own.length === 0 || own.includes(id.toLowerCase()));
};

const spec: SnapshotSpec = {
  path: '/accounts',
  perPage: 50,
  // /accounts with an account-owned token answers the same page whatever page is asked (section 10).
  firstPageOnly: (w) => w.identity.kind === 'account-token',
  table: accounts,
  conflict: [accounts.id],
  idColumn: accounts.id,
  history: accountHistory,
  keep: (a, w) => watched(w, a.id),
  // An account row and the fact that this credential reaches it commit together: another credential's
  // reconciliation running meanwhile must never see the account without anyone reaching it.
  alsoWrite: (tx, ids, w) => recordAccess(tx, w.credential.name, ids, w.now(), w.config.sync.lastSeenResolution),
  toRow: (a) => ({
    id: a.id,
    name: str(a.name) ?? '',
    type: str(a.type),
    createdOn: date(a.created_on),
    enforceTwofactor: bool(obj(a.settings).enforce_twofactor),
    raw: rawOf(a),
  }),
};

/** An account-owned token with its accounts configured reads each account directly: no listing to trust. */
async function readConfigured(w: Walk): Promise<Set<string>> {
  const seen = new Set<string>();
  const rows: Record<string, unknown>[] = [];
  for (const id of w.credential.config.accounts) {
    const res = await fetchEnvelope(w.cf, { site: { stream: w.stream, path: `/accounts/${id}`, credential: w.credential.name }, malformedRetries: w.api.malformedRetries, signal: w.signal });
    const a = res.kind === 'ok' ? obj(res.envelope.result) : {};
    if (str(a.id) !== null) {
      seen.add(id);
      if (watched(w, id)) rows.push(spec.toRow(a as never, w));
    }
  }
  await w.commitPage(async (tx) => {
    w.counts.rowsUpserted += await upsertSnapshotRows(tx, spec.table, spec.conflict, rows, w.now(), w.config.sync.lastSeenResolution);
    await storeVersions(tx, w, accountHistory, rows.map((r) => String(r.id)));
    await recordAccess(tx, w.credential.name, [...seen].filter((id) => watched(w, id)), w.now(), w.config.sync.lastSeenResolution);
  }, { walk: null });
  w.counts.pages += 1;
  w.counts.rowsFetched += rows.length;
  return seen;
}

/**
 * After this credential's walk: record what it reaches, end what it provably no longer reaches
 * (guarded), and reconcile the accounts table: an account no configured credential reaches, or
 * that is not watched, is deleted, and so are its tokens, members, roles and subscriptions.
 */
async function settleAccess(w: Walk, seen: Set<string>) {
  const reached = [...seen].filter((id) => watched(w, id));
  const live = (await w.db.select({ id: accountAccess.accountId }).from(accountAccess)
    .where(and(eq(accountAccess.credential, w.credential.name), isNull(accountAccess.deletedAt)))).map((r) => r.id);
  const unwatched = live.filter((id) => !watched(w, id));
  const unseen = live.filter((id) => watched(w, id) && !seen.has(id));
  const { wanted, held } = guard(w, unseen, live.length);
  // 404 and 403 both mean this credential cannot reach the account any more; 200 means the listing shifted.
  const { gone, present } = wanted.length ? await askDetail(w, (id) => `/accounts/${id}`, wanted, [403, 404]) : { gone: [], present: [] };
  const keep = [...reached, ...present.map((p) => p.id), ...unseen.filter((id) => !gone.includes(id))];
  const write = async (tx: Tx) => {
    await lockAccounts(tx);
    if (present.length) {
      await upsertSnapshotRows(tx, spec.table, spec.conflict, present.map((a) => spec.toRow(a, w)), w.now(), w.config.sync.lastSeenResolution);
      await storeVersions(tx, w, accountHistory, present.map((a) => a.id));
    }
    await recordAccess(tx, w.credential.name, [...reached, ...present.map((p) => p.id)], w.now(), w.config.sync.lastSeenResolution);
    await endAccess(tx, w.credential.name, live.filter((id) => !unwatched.includes(id)).concat(reached), w.now(), 'not watched (FLAREWATCH_ACCOUNTS or the credential\'s accounts list)');
    await endAccess(tx, w.credential.name, keep, w.now(), `no longer listed for credential ${w.credential.name}: GET /accounts/{id} answered 403/404`);
    await endAccessOfOthers(tx, w.config.cloudflare.credentials.map((c) => c.name), w.now());
    const excluded = await deleteUnwatchedAccounts(tx, w.config.cloudflare.accounts, w.now());
    const removed = await deleteUnreachedAccounts(tx, w.now());
    const cascaded = await cascadeDeletedAccounts(tx, w.now());
    await endVersions(tx, accountHistory, [...excluded, ...removed]);
    if (cascaded.api_tokens) await endVersions(tx, tokenHistory);
    if (cascaded.account_members) await endVersions(tx, memberHistory);
    w.counts.rowsMarkedDeleted += removed.length + excluded.length + Object.values(cascaded).reduce((a, b) => a + b, 0);
    if (removed.length || excluded.length) w.log.info({ removed, excluded, cascaded }, 'accounts deleted with their rows');
  };
  return { write, held };
}

/** The accounts one credential reaches: its /accounts listing, or its configured list for an account-owned token. */
export const accountsStream = (credential: string): StreamJob => ({
  stream: `accounts:${credential}`,
  async walk(w) {
    let seen: Set<string>;
    if (w.identity.kind === 'account-token' && w.credential.config.accounts.length) seen = await readConfigured(w);
    else {
      const walked = await walkUntilJoined(w, spec);
      if (!walked.joined) {
        await w.complete(async () => undefined, { lastCompleteAt: w.now().toISOString() });
        return;
      }
      seen = walked.seen;
    }
    const settled = await settleAccess(w, seen);
    await w.complete(settled.write, { lastCompleteAt: w.now().toISOString() }, settled.held);
  },
});
