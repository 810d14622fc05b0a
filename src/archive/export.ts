import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { sql } from 'drizzle-orm';
import type { Context } from '../context.js';
import type { Tx } from '../db/client.js';
import { listAuditPartitions } from '../db/queries/audit-partitions.js';
import { UsageError } from '../util/usage-error.js';
import { version } from '../util/version.js';
import { apiVersionOf, fileSha256, MANIFEST_FORMAT, MANIFEST_NAME, type Manifest, type ManifestFile, manifestSchema } from './manifest.js';
import { ARCHIVE_SOURCES, type ArchiveSource, cursorLines, LINE_ORDER, lineDigest, monthRows, monthWhere, rowLine } from './rows.js';

export interface ExportOptions {
  out: string;
  /** YYYY-MM; empty = every closed month. */
  months: string[];
}

export interface ExportReport {
  manifest: string;
  files: ManifestFile[];
  /** Months asked for that are not closed yet (left out). */
  open: string[];
}

/**
 * A month is closed once every window a round walks starts after it ended: a round re-reads
 * `audit.lag + audit.overlap` before now, so a month that ended longer ago than that gets no new
 * entry from a round. (A first backfill or `audit verify --repair` can still add to it: export it
 * again afterwards; the manifest's digests change and importing both files stays idempotent.)
 */
export function isClosed(ctx: Context, month: string): boolean {
  const end = new Date(`${month}-01T00:00:00Z`);
  end.setUTCMonth(end.getUTCMonth() + 1);
  return end.getTime() <= ctx.now().getTime() - ctx.config.audit.lag - ctx.config.audit.overlap;
}

/** The months (YYYY-MM) that have a partition, oldest first. */
async function archivedMonths(ctx: Context): Promise<string[]> {
  return (await listAuditPartitions(ctx.db)).map((p) => p.month.slice(0, 7));
}

async function hasRows(tx: Tx, source: ArchiveSource, month: string): Promise<boolean> {
  const res = await tx.execute<{ e: boolean }>(sql`select exists (select 1 from audit_logs where ${monthWhere(source, month)}) as e`);
  return res.rows[0]?.e === true;
}

/** Write one source's month as gzip NDJSON (one stored row per line), in one snapshot. */
async function exportOne(ctx: Context, out: string, source: ArchiveSource, month: string): Promise<ManifestFile | undefined> {
  const file = `audit_logs-${month}-${source}.ndjson.gz`;
  const path = join(out, file);
  const digest = lineDigest();
  let minTime: string | null = null;
  let maxTime: string | null = null;
  const written = await ctx.db.transaction(async (tx) => {
    if (!(await hasRows(tx, source, `${month}-01`))) return false;
    const query = sql`select ${sql.raw(rowLine('a'))} as line, to_char(event_time at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as t
      from ${monthRows(`${month}-01`)} a where ${monthWhere(source, `${month}-01`)} order by ${sql.raw(LINE_ORDER)}`;
    async function* lines() {
      for await (const r of cursorLines(tx, query)) {
        digest.add(r.line);
        minTime ??= r.t;
        maxTime = r.t;
        yield `${r.line}\n`;
      }
    }
    // Written beside its final name and renamed: a crash never leaves a half file under the manifest's name.
    await pipeline(Readable.from(lines()), createGzip(), createWriteStream(`${path}.partial`));
    return true;
  }, { isolationLevel: 'repeatable read', accessMode: 'read only' });
  if (!written) return undefined;
  await rename(`${path}.partial`, path);
  return {
    file, month, source, apiVersion: apiVersionOf(source), rows: digest.count, sha256: await fileSha256(path), rowsSha256: digest.hex(), minTime, maxTime,
  };
}

/** Merge with a manifest already in `out` (an earlier export): one entry per month and source, the newest. */
async function mergeManifest(out: string, files: ManifestFile[], at: Date): Promise<Manifest> {
  let earlier: ManifestFile[] = [];
  const text = await readFile(join(out, MANIFEST_NAME), 'utf8').catch(() => undefined);
  if (text !== undefined) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    const parsed = manifestSchema.safeParse(json);
    if (!parsed.success) throw new Error(`audit export: ${join(out, MANIFEST_NAME)} exists and is not a flarewatch manifest; choose another --out`);
    earlier = parsed.data.files;
  }
  const byKey = new Map(earlier.map((f) => [`${f.month}/${f.source}`, f]));
  for (const f of files) byKey.set(`${f.month}/${f.source}`, f);
  const merged = [...byKey.values()].sort((a, b) => (a.month + a.source < b.month + b.source ? -1 : 1));
  return { format: MANIFEST_FORMAT, flarewatchVersion: version(), exportedAt: at.toISOString(), files: merged };
}

/** `audit export`: every closed month asked for (default all), one file per source, and the manifest. */
export async function exportAudit(ctx: Context, opts: ExportOptions): Promise<ExportReport> {
  for (const m of opts.months) if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(m)) throw new UsageError(`audit export: --month ${m} is not a month (YYYY-MM)`);
  const months = opts.months.length ? [...opts.months].sort() : await archivedMonths(ctx);
  const open = months.filter((m) => !isClosed(ctx, m));
  await mkdir(opts.out, { recursive: true });
  const files: ManifestFile[] = [];
  for (const month of months.filter((m) => isClosed(ctx, m))) {
    for (const source of ARCHIVE_SOURCES) {
      const f = await exportOne(ctx, opts.out, source, month);
      if (f) files.push(f);
    }
  }
  const manifest = await mergeManifest(opts.out, files, ctx.now());
  const path = join(opts.out, MANIFEST_NAME);
  await writeFile(`${path}.partial`, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(`${path}.partial`, path);
  ctx.log.info({ out: opts.out, files: files.length, rows: files.reduce((s, f) => s + f.rows, 0) }, 'audit export written');
  return { manifest: path, files, open };
}
