// The compact archive (migration 0023): an entry is stored as references to interned accounts,
// actors, actions and zones plus what its columns do not hold of its JSON, and audit_logs rebuilds
// it. Whatever the API sent (odd types, nulls, emptied objects, other time formats, numbers jsonb
// keeps as written), the rebuilt raw JSON is byte for byte the stored jsonb of the original and
// every column is what the mapper extracted; two writers interning the same new keys at once (in
// opposite orders) neither double nor deadlock; a re-walk writes nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertAuditEntries } from '../../src/db/queries/audit-logs.js';
import { ensureAuditPartitions } from '../../src/db/queries/audit-partitions.js';
import type { AuditLogRow } from '../../src/db/schema/audit-logs.js';
import { type AuditSource, mapAuditEntry } from '../../src/sync/audit-entry.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;

const v2 = (id: string, extra: Record<string, unknown> = {}) => ({
  id,
  account: { id: 'acc-1', name: 'Acme' },
  action: { description: 'Updated a record', result: 'success', time: '2030-05-03T10:00:00.123Z', type: 'update' },
  actor: { id: 'u-1', email: 'ann@example.com', ip_address: '192.0.2.7', type: 'user', context: 'dash', token_id: null, token_name: null },
  raw: { cf_ray_id: '8a1b', method: 'PUT', status_code: 200, uri: '/zones/z/dns_records/r', user_agent: 'curl/8.0' },
  resource: { id: 'r-1', product: 'dns', scope: 'zones', type: 'dns_record', request: { email: 'New@Example.com' }, response: { success: true } },
  zone: { id: 'z-1', name: 'example.com' },
  ...extra,
});

// [source, stream account, entry]: each one a shape the rebuild must not get wrong.
const CASES: Array<[AuditSource, string | null, Record<string, unknown>]> = [
  ['account_v2', 'acc-1', v2('plain')],
  ['account_v2', 'acc-1', v2('bool-result', { action: { result: true, time: '2030-05-03T10:00:01Z', type: 'login' } })],
  ['account_v2', 'acc-1', v2('micro-time', { action: { time: '2030-05-03T10:00:02.123456Z', type: 'update' } })],
  ['account_v2', 'acc-1', v2('offset-time', { action: { time: '2030-05-03T12:00:03+02:00', type: 'update' } })],
  ['account_v2', 'acc-1', v2('tenth-time', { action: { time: '2030-05-03T10:00:04.1Z', type: 'update' } })],
  ['account_v2', 'acc-1', v2('odd-types', { actor: { id: 42, email: '', ip_address: null, type: ['user'], token_id: 'tok-1' }, zone: 'example.com' })],
  // No account object: the column takes the stream's account, the rebuilt JSON still has none.
  ['account_v2', 'acc-stream', v2('no-account', { account: undefined })],
  ['account_v2', 'acc-1', v2('empty-account', { account: {} })],
  ['account_v2', 'acc-1', v2('id-only-account', { account: { id: 'acc-1' }, zone: { id: 'z-1', name: 'example.com', extra: { deep: [1, 2.50, null] } } })],
  ['account_v2', 'acc-1', v2('numbers', { raw: { price: 1.5, big: 12345678901234567890, neg: -0.0, exp: 1e-7 } })],
  ['account_v2', 'acc-1', v2('unicode', { actor: { email: 'zoë@exämple.com', id: 'ü' }, 'actor.id': 'a key with a dot' })],
  ['account_v1', 'acc-1', {
    id: 'v1-plain', when: '2030-05-03T10:00:05.000Z', interface: 'UI', owner: { id: 'acc-1' },
    action: { type: 'rec_set', result: true, info: 'x' }, actor: { id: 'u-1', email: 'ann@example.com', ip: '192.0.2.7', type: 'user' },
    resource: { type: 'DNS_record', id: 'r-1' }, metadata: { zone_id: 'z-1', zone_name: 'example.com', email: 'invitee@example.com' }, newValue: '{"a":1}',
  }],
  ['account_v1', 'acc-1', { id: 'v1-owner-other', when: '2030-05-03T10:00:06Z', owner: { id: 'acc-9' }, action: { type: 'login', result: false }, actor: {} }],
  ['user_v1', null, { id: 'user-plain', when: '2030-05-03T10:00:07.250Z', owner: { id: 'user-1' }, action: { type: 'login' }, actor: { email: 'ann@example.com' }, metadata: {} }],
];

const mapped = (): AuditLogRow[] => CASES.map(([source, account, e]) => {
  const m = mapAuditEntry(source, account, JSON.parse(JSON.stringify(e)));
  if (!m.ok) throw new Error(m.reason);
  return m.row;
});

const COLUMNS = ['account_id', 'account_name', 'action_type', 'action_result', 'action_description', 'actor_id', 'actor_email', 'actor_ip',
  'actor_type', 'actor_context', 'actor_token_id', 'actor_token_name', 'interface', 'resource_type', 'resource_id', 'resource_product',
  'resource_scope', 'zone_id', 'zone_name'];
const camel = (c: string) => c.replace(/_(.)/g, (_, x: string) => x.toUpperCase()) as keyof AuditLogRow;

/** Each case as the archive returns it: the rebuilt raw against the original as jsonb prints it, and every column. */
async function compare(rows: AuditLogRow[]): Promise<void> {
  for (const row of rows) {
    const res = await db.pool.query(
      `select l.*, l.raw::text as raw_text, $4::jsonb::text as original_text from audit_logs l where source = $1 and id = $2 and event_time = $3`,
      [row.source, row.id, row.eventTime, JSON.stringify(row.raw)]);
    expect(res.rows, row.id).toHaveLength(1);
    const got = res.rows[0]!;
    expect(got.raw_text, row.id).toBe(got.original_text);
    for (const c of COLUMNS) expect([row.id, c, got[c]]).toEqual([row.id, c, row[camel(c)] ?? null]);
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  await ensureAuditPartitions(db.db, ['2030-05-01']);
});
afterAll(async () => db?.drop());

describe('the compact archive', () => {
  it('rebuilds every entry exactly, written by a page or row by row through the view', async () => {
    const rows = mapped();
    expect(await db.db.transaction((tx) => insertAuditEntries(tx, rows))).toBe(rows.length);
    await compare(rows);
    // Something was moved out of the JSON (the layout does what it says), and the odd values were kept in it.
    const stored = (await db.pool.query(`select id, moved, rest from audit_entries order by id`)).rows;
    expect(stored.find((r) => r.id === 'plain')!.moved).not.toBe(0);
    expect(stored.find((r) => r.id === 'plain')!.rest).not.toHaveProperty('account');
    expect(stored.find((r) => r.id === 'plain')!.rest.actor).toEqual({ token_id: null, token_name: null });
    expect(stored.find((r) => r.id === 'odd-types')!.rest.actor).toEqual({ id: 42, ip_address: null, type: ['user'] });
    expect(stored.find((r) => r.id === 'offset-time')!.rest.action).toEqual({ time: '2030-05-03T12:00:03+02:00' });

    // The same entries again (a re-walk): nothing written, no lookup row added.
    const dictionary = async () => (await db.pool.query(`select (select count(*) from audit_accounts) + (select count(*) from audit_actors)
      + (select count(*) from audit_actions) + (select count(*) from audit_zones) as n`)).rows[0].n;
    const before = await dictionary();
    expect(await db.db.transaction((tx) => insertAuditEntries(tx, rows))).toBe(0);
    expect(await dictionary()).toBe(before);

    // Row by row through the view's trigger (tests, tools, `audit import`): the same result.
    await db.pool.query('truncate audit_entries');
    for (const r of rows) {
      await db.pool.query(`insert into audit_logs (source, id, event_time, ${COLUMNS.join(', ')}, raw) values ($1, $2, $3, ${COLUMNS.map((_, i) => `$${i + 4}`).join(', ')}, $${COLUMNS.length + 4})`,
        [r.source, r.id, r.eventTime, ...COLUMNS.map((c) => r[camel(c)] ?? null), JSON.stringify(r.raw)]);
    }
    await compare(rows);
    expect(await dictionary()).toBe(before);
  });

  it('two writers interning the same new keys at once, in opposite orders: one lookup row per key, every entry once', async () => {
    await db.pool.query('truncate audit_entries');
    const actors = Array.from({ length: 40 }, (_, i) => `new-${i}@example.com`);
    const entry = (id: string, email: string, s: number): AuditLogRow => ({
      ...mapped()[0]!, id, actorEmail: email, eventTime: new Date(Date.parse('2030-05-10T00:00:00Z') + s * 1000), raw: { id, actor: { email } },
    });
    const pageA = actors.map((a, i) => entry(`a${i}`, a, i));
    const pageB = [...actors].reverse().map((a, i) => entry(`b${i}`, a, i));
    const [a, b] = await Promise.all([
      db.db.transaction(async (tx) => insertAuditEntries(tx, pageA)),
      db.db.transaction(async (tx) => insertAuditEntries(tx, pageB)),
    ]);
    expect(a + b).toBe(80);
    const perKey = (await db.pool.query(`select key ->> 1 as email, count(*)::int as n from audit_actors where key ->> 1 like 'new-%' group by 1`)).rows;
    expect(perKey).toHaveLength(40);
    expect(perKey.every((r) => r.n === 1)).toBe(true);
    expect((await db.pool.query(`select count(*)::int as n from audit_logs where actor_email like 'new-%'`)).rows[0].n).toBe(80);
  });
});
