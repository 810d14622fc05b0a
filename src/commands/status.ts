import { openApp } from '../app.js';
import type { Config } from '../config.js';
import { type CredentialRow, credentialRows } from '../db/queries/credentials.js';
import { type VerifySummary, verifySummaries } from '../db/queries/audit-verifications.js';
import { type BudgetSummary, budgetSummaries, type StreamStaleness, streamStaleness } from '../db/queries/budget.js';
import { type AccessPicture, accessPictures, describePicture } from '../db/queries/access-picture.js';
import { secretKey } from '../credentials/limiters.js';
import { streamLags, type StreamLag } from '../ops/metrics.js';
import { formatDuration } from '../util/duration.js';
import { formatTable, wrapLine } from '../util/table.js';

/** `lastCompleteAt` → `last complete at`. */
const words = (key: string) => key.replace(/([A-Z])/g, ' $1').toLowerCase();

/** A checkpoint in words (`page 3`, `last complete at 2026-…`), never its JSON. */
const checkpointText = (s: StreamLag): string => {
  if (s.watermark) return `watermark ${s.watermark}`;
  const cp = s.checkpoint as Record<string, unknown> | null;
  if (!cp || typeof cp !== 'object') return '-';
  const parts = Object.entries(cp)
    .filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object')
    .map(([k, v]) => `${words(k)} ${String(v).length > 40 ? `${String(v).slice(0, 39)}…` : String(v)}`);
  return parts.join(', ') || '-';
};

/**
 * The last error only while it is current (newer than the last success); an error a later walk
 * got past shows as recovered, with when it happened, not as a live problem.
 */
const errorText = (r: StreamLag): string => {
  if (!r.lastError) return '';
  if (!r.failing) return r.lastErrorAt ? `recovered (failed ${r.lastErrorAt})` : 'recovered';
  return `${r.lastErrorAt ?? ''} ${r.lastError}`.trim().slice(0, 160);
};

const table = (header: string[], body: string[][], width: number | undefined): string[] => formatTable(header, body, { width, rule: false, flex: ['checkpoint', 'verified', 'last error', 'whose'] }).split('\n');

const verifiedText = (v: VerifySummary | undefined) =>
  !v ? '' : `${v.verifiedThrough ? `through ${v.verifiedThrough}` : 'not yet'}${v.gaps ? `, ${v.gaps} gap day(s) (last ${v.lastGap})` : ''}`;

export interface StatusExtras {
  credentials?: CredentialRow[];
  /** Credentials whose configured secret is not the one their status was checked with (fingerprints differ). */
  changed?: Set<string>;
  verify?: VerifySummary[];
  budgets?: BudgetSummary[];
  staleness?: StreamStaleness[];
  /** Each account's access picture: complete, or the listings missing from it and why. */
  pictures?: AccessPicture[];
}

/**
 * One line per stream: checkpoint, lag (now − watermark for audit logs, now − last success
 * otherwise), what `audit verify` proved, last error; then one line per credential.
 */
export function formatStatus(rows: StreamLag[], extras: StatusExtras = {}, width?: number): string {
  if (!rows.length) return 'no stream has been walked yet';
  const verify = new Map((extras.verify ?? []).map((v) => [v.stream, v]));
  const out = table(['stream', 'checkpoint', 'lag', 'last success', 'verified', 'last error'], rows.map((r) => [
    r.stream,
    checkpointText(r),
    r.lagSeconds === null ? 'never' : formatDuration(r.lagSeconds * 1000),
    r.lastSuccessAt ?? 'never',
    verifiedText(verify.get(r.stream)),
    errorText(r),
  ]), width);
  if (extras.credentials?.length) {
    out.push('', ...table(['credential', 'kind', 'status', 'whose', 'expires', 'verified', 'last error'], extras.credentials.map((c) => [
      c.name, c.kind ?? '?', extras.changed?.has(c.name) ? `secret changed since checked (was ${c.status}; the next run checks it)` : c.status, c.userEmail ?? c.userId ?? (c.accountId ? `account ${c.accountId}` : ''),
      c.expiresOn?.toISOString() ?? (c.kind === 'global-key' ? '' : 'never'), c.lastVerifiedAt?.toISOString() ?? 'never', (c.lastError ?? '').slice(0, 120),
    ]), width));
  }
  if (extras.budgets?.length) {
    out.push('', ...table(['budget', 'round', 'share', 'capacity', 'planned', 'used', 'needed', 'deferred'], extras.budgets.map((b) => [
      b.budget, b.roundAt, `${Math.round(b.share * 100)}%`, String(b.capacity), String(b.planned), String(b.used), String(b.needed), `${b.deferred} stream(s)`,
    ]), width));
  }
  if (extras.pictures?.length) out.push('', ...extras.pictures.map((p) => wrapLine(describePicture(p), width)));
  return out.join('\n');
}

/** What needs attention: streams failing now or lagging past `maxLagMs`, credentials that do not verify, archive gaps. */
export function unhealthy(rows: StreamLag[], maxLagMs: number, extras: StatusExtras = {}): Array<{ stream: string; problem: string }> {
  const streams = rows.flatMap((r) => {
    if (r.failing) return [{ stream: r.stream, problem: 'failing' }];
    if (r.lagSeconds !== null && r.lagSeconds * 1000 > maxLagMs) return [{ stream: r.stream, problem: `lagging ${formatDuration(r.lagSeconds * 1000)}` }];
    return [];
  });
  // A status checked with another secret says nothing about the one configured now.
  const credentials = (extras.credentials ?? []).filter((c) => c.status !== 'active' && !extras.changed?.has(c.name)).map((c) => ({ stream: `credential ${c.name}`, problem: c.status }));
  const gaps = (extras.verify ?? []).filter((v) => v.gaps > 0).map((v) => ({ stream: v.stream, problem: `${v.gaps} day(s) with archive gaps` }));
  const stale = (extras.staleness ?? []).filter((s) => !s.audit && s.stalenessSeconds !== null && s.stalenessSeconds > s.maxSeconds + s.graceSeconds && !streams.some((x) => x.stream === s.stream))
    .map((s) => ({ stream: s.stream, problem: `stale ${formatDuration(s.stalenessSeconds! * 1000)}, past its maximum ${formatDuration(s.maxSeconds * 1000)}` }));
  return [...streams, ...stale, ...credentials, ...gaps];
}

/**
 * `flarewatch status [--json] [--max-lag 2h]`: exit 0 when everything is healthy, 1 when a stream
 * is failing or lags more than max-lag, a credential does not verify, or `audit verify` left a gap.
 */
export async function statusCommand(config: Config, opts: { json?: boolean; maxLagMs: number; columns?: number }, print: (s: string) => void): Promise<number> {
  const app = await openApp(config, { migrate: false });
  try {
    const db = app.ctx.db;
    const rows = await streamLags(db);
    const stored = await credentialRows(db);
    const configured = new Map(config.cloudflare.credentials.map((c) => [c.name, secretKey(c)]));
    const changed = new Set(stored.filter((r) => configured.has(r.name) && r.fingerprint !== configured.get(r.name)).map((r) => r.name));
    const extras: StatusExtras = {
      credentials: stored, changed, verify: await verifySummaries(db), budgets: await budgetSummaries(db), staleness: await streamStaleness(db, config, app.ctx.now()),
      pictures: await accessPictures(db),
    };
    const problems = unhealthy(rows, opts.maxLagMs, extras);
    if (opts.json) {
      const credentials = extras.credentials!.map(({ fingerprint: _f, verify: _v, ...c }) => ({ ...c, secretChangedSinceChecked: changed.has(c.name) }));
      print(JSON.stringify({ ok: problems.length === 0, maxLagSeconds: opts.maxLagMs / 1000, problems, streams: rows, credentials, verification: extras.verify, budgets: extras.budgets, staleness: extras.staleness,
        accessPictures: extras.pictures }, null, 2));
    } else {
      print(formatStatus(rows, extras, opts.columns));
      if (problems.length) print(`\n${wrapLine(`${problems.length} need attention: ${problems.map((p) => `${p.stream} (${p.problem})`).join(', ')}`, opts.columns)}`);
    }
    return problems.length ? 1 : 0;
  } finally {
    await app.close();
  }
}
