// The archive's long life: retention drops whole expired monthly partitions and nothing else;
// `audit export` writes closed months as gzip NDJSON with a manifest of digests; `audit import`
// verifies them first and writes back through ON CONFLICT DO NOTHING, losing and doubling nothing.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { exportAudit } from '../../src/archive/export.js';
import { importAudit } from '../../src/archive/import.js';
import { fileSha256, type Manifest } from '../../src/archive/manifest.js';
import type { Context } from '../../src/context.js';
import { insertAuditEntries } from '../../src/db/queries/audit-logs.js';
import { ensureAuditPartitions, listAuditPartitions } from '../../src/db/queries/audit-partitions.js';
import type { AuditLogRow } from '../../src/db/schema/audit-logs.js';
import { applyAuditRetention } from '../../src/sync/audit-retention.js';
import { testContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const NOW = new Date('2030-07-15T12:00:00Z');
const MONTHS = ['2030-02', '2030-03', '2030-04', '2030-05', '2030-06', '2030-07'];
const SOURCES = ['user_v1', 'account_v1', 'account_v2'] as const;
let db: TestDatabase;
let ctx: Context;
let dir: string;

const entry = (source: (typeof SOURCES)[number], month: string, i: number): AuditLogRow => ({
  source, id: `${source}-${month}-${i}`, eventTime: new Date(Date.parse(`${month}-01T00:00:00Z`) + i * 3_600_000 + 7),
  accountId: source === 'user_v1' ? null : `acc${i % 3}`, accountName: i % 2 ? 'Acme "prod"' : null, actionType: ['login', 'token_create', 'member_add'][i % 3]!,
  actionResult: 'success', actionDescription: null, actorId: `u${i % 4}`, actorEmail: `u${i % 4}@example.com`, actorIp: '192.0.2.1', actorType: 'user',
  actorContext: null, actorTokenId: null, actorTokenName: null, interface: 'UI', resourceType: 'zone', resourceId: `z${i}`, resourceProduct: null,
  resourceScope: null, zoneId: null, zoneName: null,
  // What a round trip through JavaScript numbers or naive text escaping would change: jsonb keeps all of it.
  raw: { id: `${source}-${month}-${i}`, n: i, text: 'tab\there\nline \\ back "quote" é 😀', nested: { list: [1, null, true], deep: { k: `v${i}` } } },
});

/** Every stored row, every column, as Postgres prints it: the table's content, independent of the export's own line format. */
async function tableDigest(): Promise<{ rows: number; md5: string }> {
  const { rows } = await db.pool.query<{ n: number; md5: string }>(
    `select count(*)::int as n, md5(coalesce(string_agg(a::text, E'\\n' order by source, id, event_time), '')) as md5 from audit_logs a`);
  return { rows: rows[0]!.n, md5: rows[0]!.md5 };
}

async function seed(): Promise<void> {
  await db.pool.query('truncate audit_entries');
  await ensureAuditPartitions(db.db, [...MONTHS, '2030-08', '2030-09'].map((m) => `${m}-01`));
  const rows = MONTHS.flatMap((m) => SOURCES.flatMap((s) => Array.from({ length: 40 }, (_, i) => entry(s, m, i))));
  await db.db.transaction((tx) => insertAuditEntries(tx, rows));
  // Microseconds and a number jsonb keeps as written (1.50), which JSON.parse would turn into 1.5.
  await db.pool.query(`insert into audit_logs (source, id, event_time, raw) values
    ('account_v2', 'micro', '2030-05-03 10:00:00.123456+00', '{"price": 1.50, "big": 123456789012345678901234567890}')`);
}

beforeAll(async () => {
  db = await createTestDatabase();
  ctx = { ...testContext(db, { url: 'http://127.0.0.1:9', credentials: { apiToken: 'unused-test-token' } } as never, { FLAREWATCH_AUDIT_RETENTION_MONTHS: '3' }), now: () => new Date(NOW) };
});
afterAll(async () => db?.drop());
beforeEach(async () => {
  await seed();
  dir = await mkdtemp(join(tmpdir(), 'fw-archive-'));
  return () => rm(dir, { recursive: true, force: true });
});

describe('retention', () => {
  it('drops exactly the partitions of months past audit.retentionMonths, leaving every other row as it was', async () => {
    const keptBefore = (await db.pool.query(`select source, id, event_time, xmin::text as xmin, ctid::text as ctid from audit_entries
      where event_time >= '2030-04-01Z' order by 1, 2, 3`)).rows;
    const dropped = await applyAuditRetention(ctx);
    // Retention 3 months at 2030-07-15: 2030-04 onwards is kept; the months ahead stay too.
    expect(dropped.sort()).toEqual(['audit_logs_y2030m02', 'audit_logs_y2030m03']);
    expect((await listAuditPartitions(db.db)).map((p) => p.month.slice(0, 7))).toEqual(['2030-04', '2030-05', '2030-06', '2030-07', '2030-08', '2030-09']);
    // Dropped as tables, not deleted row by row: the kept rows were not touched (same xmin and place).
    const keptAfter = (await db.pool.query(`select source, id, event_time, xmin::text as xmin, ctid::text as ctid from audit_entries order by 1, 2, 3`)).rows;
    expect(keptAfter).toEqual(keptBefore);
    expect(keptAfter.length).toBe(4 * 3 * 40 + 1);
    expect(await applyAuditRetention(ctx)).toEqual([]);
  });

  it('keeps everything with retention 0', async () => {
    const before = await tableDigest();
    expect(await applyAuditRetention({ ...ctx, config: { ...ctx.config, audit: { ...ctx.config.audit, retentionMonths: 0 } } })).toEqual([]);
    expect(await tableDigest()).toEqual(before);
  });
});

describe('audit export and import', () => {
  it('exports closed months only, one file per month and source, readable as plain NDJSON with the stored columns', async () => {
    const report = await exportAudit(ctx, { out: dir, months: [] });
    expect(report.files.map((f) => `${f.month}/${f.source}`)).toEqual(MONTHS.slice(0, 5).flatMap((m) => SOURCES.map((s) => `${m}/${s}`)));
    const manifest = JSON.parse(await readFile(report.manifest, 'utf8')) as Manifest;
    expect(manifest.files.reduce((s, f) => s + f.rows, 0)).toBe(5 * 3 * 40 + 1);
    const may = manifest.files.find((f) => f.month === '2030-05' && f.source === 'account_v2')!;
    expect(may).toMatchObject({ rows: 41, apiVersion: 'v2', minTime: '2030-05-01T00:00:00.007000Z', maxTime: '2030-05-03T10:00:00.123456Z' });
    expect(may.sha256).toBe(await fileSha256(join(dir, may.file)));
    const lines = gunzipSync(await readFile(join(dir, may.file))).toString('utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const micro = lines.find((l) => l.id === 'micro')!;
    expect(micro.event_time).toBe('2030-05-03T10:00:00.123456Z');
    expect(Object.keys(lines[0]!).sort()).toContain('archived_at');
    expect((lines[0]!.raw as { text: string }).text).toBe('tab\there\nline \\ back "quote" é 😀');
    // The current month is still being written: asked for explicitly, it is refused as open.
    const open = await exportAudit(ctx, { out: join(dir, 'open'), months: ['2030-07'] });
    expect(open).toMatchObject({ files: [], open: ['2030-07'] });
  });

  it('export, drop, import: the table is exactly what it was (every column, microseconds, numbers as written)', async () => {
    const before = await tableDigest();
    const report = await exportAudit(ctx, { out: dir, months: [] });
    await db.pool.query(`delete from audit_logs where event_time < '2030-07-01Z'`);
    for (const m of ['02', '03']) await db.pool.query(`drop table audit_logs_y2030m${m}`);
    const done = await importAudit(ctx, report.manifest);
    expect(done.reduce((s, f) => s + f.inserted, 0)).toBe(5 * 3 * 40 + 1);
    expect(done.every((f) => f.differing === 0)).toBe(true);
    expect(await tableDigest()).toEqual(before);
  });

  it('importing twice (and a file again on its own) changes nothing', async () => {
    const before = await tableDigest();
    const report = await exportAudit(ctx, { out: dir, months: ['2030-04', '2030-05'] });
    const first = await importAudit(ctx, report.manifest);
    expect(first.map((f) => f.inserted)).toEqual(first.map(() => 0));
    expect(await tableDigest()).toEqual(before);
    await db.pool.query(`delete from audit_logs where source = 'account_v1' and event_time >= '2030-04-01Z' and event_time < '2030-05-01Z' and id like '%-1_'`);
    const one = await importAudit(ctx, join(dir, 'audit_logs-2030-04-account_v1.ndjson.gz'));
    expect(one).toEqual([{ file: 'audit_logs-2030-04-account_v1.ndjson.gz', rows: 40, inserted: 10, differing: 0 }]);
    await importAudit(ctx, report.manifest);
    expect(await tableDigest()).toEqual(before);
  });

  it('refuses a tampered file by its digests and writes nothing, whether or not the manifest was edited to match', async () => {
    const report = await exportAudit(ctx, { out: dir, months: ['2030-04', '2030-05'] });
    const file = 'audit_logs-2030-05-account_v2.ndjson.gz';
    const text = gunzipSync(await readFile(join(dir, file))).toString('utf8');
    await writeFile(join(dir, file), gzipSync(text.replace('"n": 3,', '"n": 4,')));
    await db.pool.query(`truncate audit_entries`);
    await expect(importAudit(ctx, report.manifest)).rejects.toThrow(/audit_logs-2030-05-account_v2\.ndjson\.gz does not match its manifest \(sha256/);
    // The file's own sha256 updated in the manifest: the rows' digest still gives it away.
    const manifest = JSON.parse(await readFile(report.manifest, 'utf8')) as Manifest;
    manifest.files.find((f) => f.file === file)!.sha256 = await fileSha256(join(dir, file));
    await writeFile(report.manifest, JSON.stringify(manifest));
    await expect(importAudit(ctx, report.manifest)).rejects.toThrow(/holds 41 rows \(digest .*its manifest says 41/);
    expect((await tableDigest()).rows).toBe(0);
    // One file with no manifest beside it cannot be verified: refused, naming what is missing.
    await rm(report.manifest);
    await expect(importAudit(ctx, join(dir, file))).rejects.toThrow(/needs its manifest \(manifest\.json in the same directory\)/);
  });
});
