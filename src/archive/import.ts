import { createReadStream } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { sql } from 'drizzle-orm';
import type { Context } from '../context.js';
import { copyRows, transactionClient } from '../db/copy.js';
import { ensureAuditPartitions } from '../db/queries/audit-partitions.js';
import { fileSha256, MANIFEST_NAME, type ManifestFile, readManifest } from './manifest.js';
import { columnList, columnsFromLine, lineDigest, monthWhere, rowLine } from './rows.js';

export interface ImportedFile {
  file: string;
  rows: number;
  /** Rows written now (the rest were archived already). */
  inserted: number;
  /** Rows the archive holds under the same key with different content: kept as they are, counted here. */
  differing: number;
}

/** The lines of a gzip NDJSON file. */
async function* gzLines(path: string): AsyncGenerator<string> {
  const rl = createInterface({ input: createReadStream(path).pipe(createGunzip()), crlfDelay: Infinity });
  for await (const line of rl) if (line !== '') yield line;
}

/** Refuse, before anything is written, a file whose bytes or rows differ from what its manifest says. */
async function verifyFile(path: string, f: ManifestFile): Promise<void> {
  const sha = await fileSha256(path).catch((err: Error) => {
    throw new Error(`audit import: cannot read ${path}: ${err.message}`);
  });
  if (sha !== f.sha256) throw new Error(`audit import: ${path} does not match its manifest (sha256 ${sha.slice(0, 12)}…, manifest ${f.sha256.slice(0, 12)}…); nothing imported`);
  const d = lineDigest();
  for await (const line of gzLines(path)) d.add(line);
  const rowsSha = d.hex();
  if (d.count !== f.rows || rowsSha !== f.rowsSha256) {
    throw new Error(`audit import: ${path} holds ${d.count} rows (digest ${rowsSha.slice(0, 12)}…), its manifest says ${f.rows} (${f.rowsSha256.slice(0, 12)}…); nothing imported`);
  }
}

/** One file in one transaction: staged with COPY, checked against its month and source, then INSERT … ON CONFLICT DO NOTHING. */
async function importOne(ctx: Context, path: string, f: ManifestFile): Promise<ImportedFile> {
  const month = `${f.month}-01`;
  return ctx.db.transaction(async (tx) => {
    const client = transactionClient(tx)!;
    await ensureAuditPartitions(tx, [month]);
    await client.query('create temp table audit_import_stage (j jsonb not null) on commit drop');
    let rows = 0;
    const batch: string[][] = [];
    // In batches: a month can hold millions of rows, more than is worth holding in memory at once.
    for await (const line of gzLines(path)) {
      batch.push([line]);
      rows += 1;
      if (batch.length === 50_000) await copyRows(client, 'audit_import_stage', ['j'], batch.splice(0));
    }
    await copyRows(client, 'audit_import_stage', ['j'], batch);
    const stray = await tx.execute<{ n: number }>(sql`select count(*)::int as n from
      (select j->>'source' as source, (j->>'event_time')::timestamptz as event_time from audit_import_stage) x
      where not (${monthWhere(f.source, month)})`);
    if ((stray.rows[0]?.n ?? 0) > 0) throw new Error(`audit import: ${path} holds ${stray.rows[0]!.n} rows outside ${f.source} ${f.month}, which its manifest names; nothing imported`);
    const ins = await tx.execute(sql.raw(`insert into audit_logs (${columnList}) select ${columnsFromLine('j')} from audit_import_stage on conflict do nothing`));
    // Every row of the file must now be in the archive exactly as written (a row kept from before under the same key may differ).
    const diff = await tx.execute<{ n: number }>(sql.raw(`select count(*)::int as n from audit_import_stage s where not exists (
      select 1 from audit_logs a where a.source = s.j->>'source' and a.id = s.j->>'id' and a.event_time = (s.j->>'event_time')::timestamptz
        and ${rowLine('a')}::jsonb = s.j)`));
    return { file: f.file, rows, inserted: ins.rowCount ?? 0, differing: diff.rows[0]?.n ?? 0 };
  });
}

/** The manifest and the entries to import: all of a manifest's, or the one naming a file (its manifest sits beside it). */
async function resolve(target: string): Promise<{ dir: string; files: ManifestFile[] }> {
  if (target.endsWith('.json')) return { dir: dirname(target), files: (await readManifest(target)).files };
  const dir = dirname(target);
  const manifest = await readManifest(join(dir, MANIFEST_NAME)).catch((err: Error) => {
    throw new Error(`audit import: ${target} needs its manifest (${MANIFEST_NAME} in the same directory) to verify its digests: ${err.message}`);
  });
  const entry = manifest.files.find((f) => f.file === basename(target));
  if (!entry) throw new Error(`audit import: ${join(dir, MANIFEST_NAME)} does not list ${basename(target)}; nothing imported`);
  return { dir, files: [entry] };
}

/** `audit import`: verify every file's digests first, then write each through the idempotent insert. */
export async function importAudit(ctx: Context, target: string): Promise<ImportedFile[]> {
  const { dir, files } = await resolve(target);
  for (const f of files) await verifyFile(join(dir, f.file), f);
  const done: ImportedFile[] = [];
  for (const f of files) done.push(await importOne(ctx, join(dir, f.file), f));
  ctx.log.info({ files: done.length, inserted: done.reduce((s, f) => s + f.inserted, 0) }, 'audit import done');
  return done;
}
