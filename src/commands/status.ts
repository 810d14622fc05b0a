import { openApp } from '../app.js';
import type { Config } from '../config.js';
import { type CredentialRow, credentialRows } from '../db/queries/credentials.js';
import { type VerifySummary, verifySummaries } from '../db/queries/audit-verifications.js';
import { type BudgetSummary, budgetSummaries, type StreamStaleness, streamStaleness } from '../db/queries/budget.js';
import { streamLags, type StreamLag } from '../ops/metrics.js';
import { formatDuration } from '../util/duration.js';

const checkpointText = (s: StreamLag): string => {
  if (s.watermark) return `watermark ${s.watermark}`;
  const cp = s.checkpoint as { page?: number; cursor?: string } | null;
  if (cp && typeof cp === 'object' && Object.keys(cp).length) return JSON.stringify(cp).slice(0, 60);
  return '-';
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

function table(header: string[], body: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), ...body.map(line)];
}

const verifiedText = (v: VerifySummary | undefined) =>
  !v ? '' : `${v.verifiedThrough ? `through ${v.verifiedThrough}` : 'not yet'}${v.gaps ? `, ${v.gaps} gap day(s) (last ${v.lastGap})` : ''}`;

export interface StatusExtras {
  credentials?: CredentialRow[];
  verify?: VerifySummary[];
  budgets?: BudgetSummary[];
  staleness?: StreamStaleness[];
}

/**
 * One line per stream: checkpoint, lag (now − watermark for audit logs, now − last success
 * otherwise), what `audit verify` proved, last error; then one line per credential.
 */
export function formatStatus(rows: StreamLag[], extras: StatusExtras = {}): string {
  if (!rows.length) return 'no stream has been walked yet';
  const verify = new Map((extras.verify ?? []).map((v) => [v.stream, v]));
  const out = table(['stream', 'checkpoint', 'lag', 'last success', 'verified', 'last error'], rows.map((r) => [
    r.stream,
    checkpointText(r),
    r.lagSeconds === null ? 'never' : formatDuration(r.lagSeconds * 1000),
    r.lastSuccessAt ?? 'never',
    verifiedText(verify.get(r.stream)),
    errorText(r),
  ]));
  if (extras.credentials?.length) {
    out.push('', ...table(['credential', 'kind', 'status', 'whose', 'expires', 'verified', 'last error'], extras.credentials.map((c) => [
      c.name, c.kind ?? '?', c.status, c.userEmail ?? c.userId ?? (c.accountId ? `account ${c.accountId}` : ''),
      c.expiresOn?.toISOString() ?? (c.kind === 'global-key' ? '' : 'never'), c.lastVerifiedAt?.toISOString() ?? 'never', (c.lastError ?? '').slice(0, 120),
    ])));
  }
  if (extras.budgets?.length) {
    out.push('', ...table(['budget', 'round', 'share', 'capacity', 'planned', 'used', 'needed', 'deferred'], extras.budgets.map((b) => [
      b.budget, b.roundAt, `${Math.round(b.share * 100)}%`, String(b.capacity), String(b.planned), String(b.used), String(b.needed), `${b.deferred} stream(s)`,
    ])));
  }
  return out.join('\n');
}

/** What needs attention: streams failing now or lagging past `maxLagMs`, credentials that do not verify, archive gaps. */
export function unhealthy(rows: StreamLag[], maxLagMs: number, extras: StatusExtras = {}): Array<{ stream: string; problem: string }> {
  const streams = rows.flatMap((r) => {
    if (r.failing) return [{ stream: r.stream, problem: 'failing' }];
    if (r.lagSeconds !== null && r.lagSeconds * 1000 > maxLagMs) return [{ stream: r.stream, problem: `lagging ${formatDuration(r.lagSeconds * 1000)}` }];
    return [];
  });
  const credentials = (extras.credentials ?? []).filter((c) => c.status !== 'active').map((c) => ({ stream: `credential ${c.name}`, problem: c.status }));
  const gaps = (extras.verify ?? []).filter((v) => v.gaps > 0).map((v) => ({ stream: v.stream, problem: `${v.gaps} day(s) with archive gaps` }));
  const stale = (extras.staleness ?? []).filter((s) => !s.audit && s.stalenessSeconds !== null && s.stalenessSeconds > s.maxSeconds + s.graceSeconds && !streams.some((x) => x.stream === s.stream))
    .map((s) => ({ stream: s.stream, problem: `stale ${formatDuration(s.stalenessSeconds! * 1000)}, past its maximum ${formatDuration(s.maxSeconds * 1000)}` }));
  return [...streams, ...stale, ...credentials, ...gaps];
}

/**
 * `flarewatch status [--json] [--max-lag 2h]`: exit 0 when everything is healthy, 1 when a stream
 * is failing or lags more than max-lag, a credential does not verify, or `audit verify` left a gap.
 */
export async function statusCommand(config: Config, opts: { json?: boolean; maxLagMs: number }, print: (s: string) => void): Promise<number> {
  const app = await openApp(config, { migrate: false });
  try {
    const db = app.ctx.db;
    const rows = await streamLags(db);
    const extras: StatusExtras = {
      credentials: await credentialRows(db), verify: await verifySummaries(db), budgets: await budgetSummaries(db), staleness: await streamStaleness(db, config, app.ctx.now()),
    };
    const problems = unhealthy(rows, opts.maxLagMs, extras);
    if (opts.json) {
      const credentials = extras.credentials!.map(({ fingerprint: _f, verify: _v, ...c }) => c);
      print(JSON.stringify({ ok: problems.length === 0, maxLagSeconds: opts.maxLagMs / 1000, problems, streams: rows, credentials, verification: extras.verify, budgets: extras.budgets, staleness: extras.staleness }, null, 2));
    } else {
      print(formatStatus(rows, extras));
      if (problems.length) print(`\n${problems.length} need attention: ${problems.map((p) => `${p.stream} (${p.problem})`).join(', ')}`);
    }
    return problems.length ? 1 : 0;
  } finally {
    await app.close();
  }
}
