import { openApp } from '../app.js';
import { loadConfig } from '../config.js';
import { type CredentialRow, credentialRows } from '../db/queries/credentials.js';
import { type VerifySummary, verifySummaries } from '../db/queries/audit-verifications.js';
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
  return out.join('\n');
}

export async function statusCommand(print: (s: string) => void): Promise<void> {
  const app = await openApp(loadConfig(), { migrate: false });
  try {
    const db = app.ctx.db;
    print(formatStatus(await streamLags(db), { credentials: await credentialRows(db), verify: await verifySummaries(db) }));
  } finally {
    await app.close();
  }
}
