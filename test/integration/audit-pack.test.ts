// Packing closed months (migration 0026): a month's kept JSON moves into packs of 64 entries and the
// partition is rewritten. Everything read from the archive must be what it was before packing: each
// entry's raw JSON byte for byte (odd shapes included), every column, export digests, the subject
// e-mail lookups, access_used (which reads the request path from the packs). Late entries, deletes,
// imports into a packed month, retention and a writer in the current month keep working; a second
// pack run packs nothing. Each check compares with what was captured before packing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { exportAudit } from '../../src/archive/export.js';
import { importAudit } from '../../src/archive/import.js';
import { storedDigest } from '../../src/archive/rows.js';
import { auditPackCommand } from '../../src/commands/audit-pack.js';
import type { Context } from '../../src/context.js';
import { insertAuditEntries } from '../../src/db/queries/audit-logs.js';
import { ensureAuditPartitions } from '../../src/db/queries/audit-partitions.js';
import type { AuditLogRow } from '../../src/db/schema/audit-logs.js';
import { applyAuditPacking, packClosedMonths } from '../../src/sync/audit-pack.js';
import { applyAuditRetention } from '../../src/sync/audit-retention.js';
import { type AuditSource, mapAuditEntry } from '../../src/sync/audit-entry.js';
import { testContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

const NOW = new Date('2030-07-15T12:00:00Z');
let db: TestDatabase;
let ctx: Context;

const at = (month: string, i: number) => new Date(Date.parse(`${month}-01T00:00:00Z`) + i * 600_000 + (i % 7) * 1_013).toISOString();

/** A v2 entry, varied: tokens and people, mapped and unmapped writes (the request path decides those), subject e-mails, odd values. */
function v2(month: string, i: number): Record<string, unknown> {
  const token = i % 3 === 0;
  return {
    id: `v2-${month}-${i}`,
    account: { id: `acc-${i % 2}`, name: 'Acme' },
    action: { description: `change ${i}`, result: i % 11 ? 'success' : 'failure', time: at(month, i), type: ['update', 'create', 'delete', 'member.add'][i % 4] },
    actor: token
      ? { id: `tok-${i % 4}`, type: 'account', token_id: `tok-${i % 4}`, token_name: `ci ${i % 4}`, ip_address: '192.0.2.7', context: 'api_token' }
      : { id: `u-${i % 5}`, email: `u${i % 5}@example.com`, ip_address: `198.51.100.${i % 9}`, type: 'user', context: 'dash' },
    raw: { cf_ray_id: `ray${i}`, method: 'PUT', status_code: 200, uri: i % 2 ? `/zones/z${i % 4}/dns_records/r${i}` : `/accounts/acc/storage/kv/n${i}`, user_agent: 'curl/8.0' },
    resource: {
      id: `r-${i % 17}`, product: i % 5 ? 'oddthing' : 'dns', scope: 'zones', type: i % 4 === 3 ? 'member' : 'oddthing',
      request: { email: i % 4 === 3 ? `Invitee${i}@Example.com` : undefined, name: `item ${i}`, ratio: i / 8, n: 12345678901234567890 },
      response: { success: true, tags: ['a', null, i], text: 'tab\there\nline \\ "quote" é 😀' },
    },
    zone: { id: `z${i % 4}`, name: 'example.com' },
  };
}

/** Shapes the rebuild must not get wrong (from the compact layout's fixtures), placed in the month. */
function odd(month: string): Array<[AuditSource, string | null, Record<string, unknown>]> {
  return [
    ['account_v2', 'acc-1', { ...v2(month, 900), id: `odd-types-${month}`, actor: { id: 42, email: '', ip_address: null, type: ['user'], token_id: 'tok-1' }, zone: 'example.com' }],
    ['account_v2', 'acc-stream', { ...v2(month, 901), id: `no-account-${month}`, account: undefined }],
    ['account_v2', 'acc-1', { ...v2(month, 902), id: `offset-time-${month}`, action: { time: `${month}-03T12:00:03+02:00`, type: 'update' } }],
    ['account_v2', 'acc-1', { ...v2(month, 903), id: `numbers-${month}`, raw: { price: 1.5, big: 12345678901234567890, neg: -0.0, exp: 1e-7 } }],
    ['account_v1', 'acc-1', {
      id: `v1-${month}`, when: `${month}-03T10:00:05.000Z`, interface: 'UI', owner: { id: 'acc-1' }, action: { type: 'rec_set', result: true, info: 'x' },
      actor: { id: 'u-1', email: 'ann@example.com', ip: '192.0.2.7', type: 'user' }, resource: { type: 'DNS_record', id: 'r-1' },
      metadata: { zone_id: 'z-1', zone_name: 'example.com', email: 'Invitee@example.com' }, newValue: '{"a":1}',
    }],
    ['user_v1', null, { id: `user-${month}`, when: `${month}-03T10:00:07.250Z`, owner: { id: 'user-1' }, action: { type: 'login' }, actor: { email: 'ann@example.com' }, metadata: {} }],
  ];
}

function rows(month: string, n: number): AuditLogRow[] {
  const all: Array<[AuditSource, string | null, Record<string, unknown>]> = [
    ...Array.from({ length: n }, (_, i): [AuditSource, string, Record<string, unknown>] => ['account_v2', `acc-${i % 2}`, v2(month, i)]),
    ...odd(month),
  ];
  return all.map(([source, account, e]) => {
    const m = mapAuditEntry(source, account, JSON.parse(JSON.stringify(e)));
    if (!m.ok) throw new Error(m.reason);
    return m.row;
  });
}

/** Every row of audit_logs, every column as Postgres prints it (raw as text: byte for byte), with its subject e-mail. */
async function snapshot(): Promise<string[]> {
  return (await db.pool.query<{ r: string }>(`select a::text as r from audit_logs a order by source, id, event_time`)).rows.map((r) => r.r);
}

/** What the readers return: export digests per month and source, access_used, the subject-email lookups, audit_events. */
async function readers(): Promise<unknown> {
  const digests: unknown[] = [];
  for (const month of ['2030-05-01', '2030-06-01']) for (const s of ['account_v2', 'account_v1', 'user_v1'] as const) digests.push(await storedDigest(db.db, s, month));
  const q = async (text: string) => (await db.pool.query(text)).rows;
  return {
    digests,
    accessUsed: await q(`select * from access_used(400, '2030-07-15Z') order by 1, 2, 4, 5`),
    subjects: await q(`select source, id, subject_email from audit_logs where subject_email is not null order by 1, 2`),
    bySubject: await q(`select id from audit_entries e where account_ref in (select ref from audit_accounts where key ->> 0 = 'acc-1')
      and lower(coalesce(e.rest #>> '{resource,request,email}', e.rest #>> '{newValueJson,email}', e.rest #>> '{metadata,email}')) = 'invitee@example.com' order by 1`),
    events: await q(`select source, id, sources from audit_events order by 1, 2`),
  };
}

const packCount = async (month: string) => Number((await db.pool.query(`select count(*) as n from audit_packs where month = $1`, [month])).rows[0].n);
const unpacked = async (part: string) => Number((await db.pool.query(`select count(*) as n from ${part} where pack_id is null`)).rows[0].n);

beforeAll(async () => {
  db = await createTestDatabase();
  ctx = { ...testContext(db, { url: 'http://127.0.0.1:9', credentials: { apiToken: 'unused-test-token' } } as never, {}), now: () => new Date(NOW) };
});
afterAll(async () => db?.drop());
beforeEach(async () => {
  await db.pool.query('truncate audit_entries, audit_packs');
  await ensureAuditPartitions(db.db, ['2030-05-01', '2030-06-01', '2030-07-01']);
  await db.db.transaction((tx) => insertAuditEntries(tx, [...rows('2030-05', 150), ...rows('2030-06', 40), ...rows('2030-07', 10)]));
});

describe('packing closed months', () => {
  it('packs every closed month and changes nothing any reader sees; a second run packs nothing', async () => {
    const before = await snapshot();
    const read = await readers();
    expect((read as { accessUsed: Array<{ permission_group: string }> }).accessUsed.map((r) => r.permission_group)).toEqual(expect.arrayContaining(['DNS Write', 'Workers KV Storage Write']));
    expect((read as { bySubject: unknown[] }).bySubject.length).toBeGreaterThan(0);

    const done = await packClosedMonths(ctx);
    // 2030-06 ended 14 days before NOW (more than the 7-day default); 2030-07 is open.
    expect(done.map((d) => [d.month, d.entries, d.packs])).toEqual([['2030-05-01', 156, 3], ['2030-06-01', 46, 1]]);
    expect(await unpacked('audit_logs_y2030m05')).toBe(0);
    expect(await unpacked('audit_logs_y2030m07')).toBe(16);
    // The JSON moved out: a packed entry keeps only its subject e-mail, if it names one.
    const kept = (await db.pool.query(`select count(*) filter (where rest is null) as gone, count(*) as n from audit_logs_y2030m05`)).rows[0];
    expect(Number(kept.gone)).toBeGreaterThan(100);

    expect(await snapshot()).toEqual(before);
    expect(await readers()).toEqual(read);
    expect(await packClosedMonths(ctx)).toEqual([]);
    expect(await packCount('2030-05-01')).toBe(3);
  });

  it('a rewrite a reader blocks is left packed, and the next run rewrites that month without packing it again', async () => {
    const reader = await db.pool.connect();
    try {
      // A long reader of the month holds its lock past the rewrite's 10 s lock timeout.
      await reader.query('begin');
      await reader.query('select count(*) from audit_logs_y2030m05');
      const first = await packClosedMonths(ctx);
      expect(first.map((d) => [d.month, d.entries, d.compacted])).toEqual([['2030-05-01', 156, false], ['2030-06-01', 46, true]]);
      expect(first[0]!.compactSkipped).toMatch(/lock not obtained/);
    } finally {
      await reader.query('rollback');
      reader.release();
    }
    const second = await packClosedMonths(ctx);
    expect(second.map((d) => [d.month, d.entries, d.packs, d.compacted])).toEqual([['2030-05-01', 0, 0, true]]);
    expect(second[0]!.bytesAfter).toBeLessThan(second[0]!.bytesBefore);
    expect(await packClosedMonths(ctx)).toEqual([]);
  });

  it('a late entry into a packed month is read, stays unpacked until the next run, which packs only it', async () => {
    const base = await snapshot();
    await packClosedMonths(ctx);
    const late = rows('2030-05', 1).map((r) => ({ ...r, id: 'late-one', raw: { ...(r.raw as object), id: 'late-one' } }))[0]!;
    expect(await db.db.transaction((tx) => insertAuditEntries(tx, [late]))).toBe(1);
    const before = await snapshot();
    expect(before.some((r) => r.includes('late-one'))).toBe(true);
    expect(before.filter((r) => !r.includes('late-one'))).toEqual(base);
    expect(await unpacked('audit_logs_y2030m05')).toBe(1);
    const second = await packClosedMonths(ctx);
    expect(second.map((d) => [d.month, d.entries, d.packs])).toEqual([['2030-05-01', 1, 1]]);
    expect(await snapshot()).toEqual(before);
    expect(await packClosedMonths(ctx)).toEqual([]);
  });

  it('a packed entry deleted through the view is gone, the rest of its pack unchanged', async () => {
    const before = await snapshot();
    await packClosedMonths(ctx);
    const victim = (await db.pool.query(`select source, id, event_time from audit_logs where id = 'v2-2030-05-70'`)).rows[0];
    const del = await db.pool.query(`delete from audit_logs where source = $1 and id = $2 and event_time = $3`, [victim.source, victim.id, victim.event_time]);
    expect(del.rowCount).toBe(1);
    expect(await snapshot()).toEqual(before.filter((r) => !r.includes('v2-2030-05-70,')));
  });

  it('retention drops a packed month with its packs; no pack is left without its month', async () => {
    await packClosedMonths(ctx);
    expect(await packCount('2030-05-01')).toBe(3);
    // Retention 1 month at 2030-07-15: 2030-05 goes, 2030-06 stays.
    expect(await applyAuditRetention({ ...ctx, config: { ...ctx.config, audit: { ...ctx.config.audit, retentionMonths: 1 } } })).toEqual(['audit_logs_y2030m05']);
    expect(await packCount('2030-05-01')).toBe(0);
    expect(await packCount('2030-06-01')).toBe(1);
    const orphans = await db.pool.query(`select count(*) as n from audit_packs p where not exists (select 1 from audit_entries e where e.pack_id = p.id)`);
    expect(Number(orphans.rows[0].n)).toBe(0);
  });

  it('export from a packed month, delete, import back into it: the month is exactly what it was', async () => {
    await packClosedMonths(ctx);
    const before = await snapshot();
    const dir = await mkdtemp(join(tmpdir(), 'fw-pack-'));
    try {
      const report = await exportAudit(ctx, { out: dir, months: ['2030-05'] });
      expect(report.files.reduce((s, f) => s + f.rows, 0)).toBe(156);
      await db.pool.query(`delete from audit_logs where event_time >= '2030-05-01Z' and event_time < '2030-06-01Z' and id like '%1'`);
      const done = await importAudit(ctx, report.manifest);
      expect(done.every((f) => f.differing === 0)).toBe(true);
      expect(done.reduce((s, f) => s + f.inserted, 0)).toBeGreaterThan(10);
      expect(await snapshot()).toEqual(before);
      // The imported entries are unpacked until the next run packs them; the month reads the same after it.
      expect(await unpacked('audit_logs_y2030m05')).toBeGreaterThan(10);
      await packClosedMonths(ctx);
      expect(await unpacked('audit_logs_y2030m05')).toBe(0);
      expect(await snapshot()).toEqual(before);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a writer into the current month while months are packed: every entry it writes is archived', async () => {
    const current = Array.from({ length: 8 }, (_, k) => rows('2030-07', 30).slice(10).map((r) => ({ ...r, id: `${r.id}-w${k}` }))).map((page) => page);
    const before = await snapshot();
    const [packed, ...written] = await Promise.all([
      packClosedMonths(ctx),
      ...current.map((page) => db.db.transaction((tx) => insertAuditEntries(tx, page))),
    ]);
    expect(packed.map((d) => d.entries)).toEqual([156, 46]);
    expect(written).toEqual(current.map((p) => p.length));
    const after = await snapshot();
    expect(after.length).toBe(before.length + current.flat().length);
    expect(after.filter((r) => before.includes(r))).toEqual(before);
  });

  it('reports per month, refuses an open month and a malformed one, and is off in the daemon at packAfterDays 0', async () => {
    const out = await auditPackCommand(ctx, {});
    expect(out.output).toMatch(/^2030-05: 156 entries packed into 3 packs, [\d.]+ MB -> [\d.]+ MB \([\d.]+×\)\n2030-06: 46 entries packed into 1 packs/);
    expect((await auditPackCommand(ctx, { month: '2030-05' })).output).toMatch(/^2030-05: nothing to pack/);
    await expect(auditPackCommand(ctx, { month: '2030-07' })).rejects.toThrow(/2030-07 is not closed/);
    await expect(auditPackCommand(ctx, { month: '2030-5' })).rejects.toThrow(/--month 2030-5 is not YYYY-MM/);
    await db.pool.query('truncate audit_entries, audit_packs');
    await db.db.transaction((tx) => insertAuditEntries(tx, rows('2030-05', 5)));
    const off = { ...ctx, config: { ...ctx.config, audit: { ...ctx.config.audit, packAfterDays: 0 } } };
    expect(await applyAuditPacking(off)).toEqual([]);
    expect(await unpacked('audit_logs_y2030m05')).toBe(11);
    expect((await applyAuditPacking(ctx)).map((d) => d.entries)).toEqual([11]);
  });
});
