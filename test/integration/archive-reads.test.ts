import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { testContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { oldDefinition } from '../helpers/old-definition.js';
import { INVENTORY_KINDS } from '../helpers/inventory.js';
import { DAY_MS } from '../helpers/rules.js';

// Migration 0025 rewrote access_used() to read audit_entries and the lookup tables directly (not
// through the audit_logs view) for speed. Its rows must be those of 0023's definition, installed
// beside it here, on a synced archive plus entries made to hit every branch of its filters.

let db: TestDatabase;
let sim: Simulator;

const pendingInvitationsOf0023 = () =>
  oldDefinition('0023_audit_compact', 'view', 'CREATE VIEW "pending_invitations" AS', 'CREATE VIEW pending_invitations_0023 AS');
const accessUsedOf0023 = () =>
  oldDefinition('0023_audit_compact', 'function', 'CREATE OR REPLACE FUNCTION access_used(', 'CREATE OR REPLACE FUNCTION access_used_0023(');

const ago = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString();

/** A v2 entry written through the view, as the sync would (columns copied out of its JSON). */
async function entry(id: string, daysAgo: number, f: { account?: string | null; actorId?: string | null; email?: string | null; actorType?: string | null;
  tokenId?: string | null; tokenName?: string | null; action?: string | null; product?: string | null; type?: string | null; uri?: string | null;
  source?: string; resourceId?: string; subjectEmail?: string; result?: string; time?: string }): Promise<void> {
  const time = f.time ?? ago(daysAgo);
  const resourceId = f.resourceId ?? `r-${id}`;
  const raw = {
    id, time,
    account: f.account === null ? {} : { id: f.account },
    action: { type: f.action ?? null, result: 'success', time },
    actor: { id: f.actorId ?? null, email: f.email ?? null, type: f.actorType ?? null, token_id: f.tokenId ?? null, token_name: f.tokenName ?? null },
    raw: f.uri === null ? { method: 'POST' } : { method: 'POST', uri: f.uri },
    resource: { id: resourceId, product: f.product ?? null, type: f.type ?? null, ...(f.subjectEmail ? { request: { email: f.subjectEmail } } : {}) },
  };
  await db.pool.query(
    `insert into audit_logs (source, id, event_time, account_id, action_type, action_result, actor_id, actor_email, actor_type, actor_token_id,
       actor_token_name, resource_type, resource_id, resource_product, raw)
     values ($14, $1, $2, $3, $4, $15, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [id, time, f.account ?? null, f.action ?? null, f.actorId ?? null, f.email ?? null, f.actorType ?? null, f.tokenId ?? null, f.tokenName ?? null,
      f.type ?? null, resourceId, f.product ?? null, JSON.stringify(raw), f.source ?? 'account_v2', f.result ?? 'success']);
}

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({
    seed: 25, rateLimit: false,
    size: { accounts: 2, membersPerAccount: 4, accountTokensPerAccount: 4, userTokens: 2, accountAuditEntries: 400, accountAuditV1Entries: 20, userAuditEntries: 20, auditDays: 150 },
  });
  // Pending members: one invited by id, one by e-mail (and its v1 copy), one whose invite failed, one with no event.
  const acc0 = sim.world.accounts[0]!.id;
  const pending = ['by-id', 'by-email', 'failed', 'silent'].map((l) => sim.world.addMember(acc0, { status: 'pending', email: `${l}@example.org` }));
  const outcomes = await syncAll(testContext(db, sim), { streams: [...INVENTORY_KINDS, 'account-audit', 'account-audit-v1', 'user-audit'] });
  expect(outcomes.filter((o) => o.status !== 'succeeded')).toEqual([]);
  await db.pool.query(accessUsedOf0023());
  await db.pool.query(pendingInvitationsOf0023());
  const acc = sim.world.accounts[0]!.id;
  // Each filter's edge: no account, a non-user actor, a member without a type, a token without a
  // name, an action in capitals that is a read, no action, no product or type, no request path, a
  // path no row maps, and one just outside a window.
  await entry('e-no-account', 5, { account: null, tokenId: 'tok-a', tokenName: 'a', action: 'update', product: 'dns_records', type: 'dns_record', uri: '/client/v4/zones/z/dns_records/1' });
  await entry('e-service', 6, { account: acc, actorId: 'svc', actorType: 'service', action: 'update', product: 'Workers', type: 'script', uri: '/x' });
  await entry('e-untyped-member', 7, { account: acc, actorId: 'u-1', email: 'u1@example.com', action: 'delete', product: 'Workers', type: 'script', uri: '/client/v4/accounts/a/workers/scripts/s' });
  await entry('e-nameless-token', 8, { account: acc, tokenId: 'tok-b', action: 'create', product: 'Magic Transit', type: 'gre_tunnel', uri: '/client/v4/accounts/a/magic/gre_tunnels' });
  await entry('e-read', 9, { account: acc, tokenId: 'tok-b', tokenName: 'b', action: 'LIST', product: 'dns_records', type: 'dns_record', uri: '/y' });
  await entry('e-no-action', 10, { account: acc, tokenId: 'tok-b', tokenName: 'b', action: null, product: 'dns_records', type: 'dns_record', uri: '/y' });
  await entry('e-no-product', 11, { account: acc, tokenId: 'tok-b', tokenName: 'b', action: 'update', product: null, type: null, uri: '/client/v4/accounts/a/unknown/1' });
  await entry('e-no-uri', 12, { account: acc, tokenId: 'tok-c', tokenName: 'c', action: 'update', product: 'Unheard Of', type: 'thing', uri: null });
  const inv = { account: acc, actorId: 'admin', email: 'admin@example.com', product: 'Members', type: 'account_member' };
  await entry('i-by-id', 0, { ...inv, action: 'create', resourceId: pending[0]!.id });
  const byEmail = (await db.pool.query<{ email: string }>(`select email from account_members where id = $1`, [pending[1]!.id])).rows[0]!.email;
  await entry('i-by-email', 0, { ...inv, action: 'member.add', resourceId: 'other', subjectEmail: byEmail.toUpperCase() });
  const v1Time = (await db.pool.query<{ t: Date }>(`select event_time as t from audit_logs where id = 'i-by-email'`)).rows[0]!.t.toISOString();
  await entry('i-by-email-v1', 0, { ...inv, source: 'account_v1', action: 'add', resourceId: 'other', subjectEmail: byEmail, time: v1Time });
  await entry('i-failed', 0, { ...inv, action: 'invite', resourceId: pending[2]!.id, result: 'failure' });
  await entry('e-old', 31, { account: acc, tokenId: 'tok-c', tokenName: 'c', action: 'update', product: 'Unheard Of', type: 'thing', uri: '/client/v4/accounts/a/things/9' });
});

afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

const rowsOf = async (fn: string, days: number, asOf: string): Promise<string[]> =>
  (await db.pool.query<{ r: string }>(`select row_to_json(u)::text as r from ${fn}($1::int, $2::timestamptz) u order by 1`, [days, asOf])).rows.map((x) => x.r);

describe('access_used (0025) against 0023\'s definition', () => {
  it('the archive holds what the comparison needs: token and member writes, an unmapped one', async () => {
    const rows = await rowsOf('access_used', 400, new Date().toISOString());
    const parsed = rows.map((r) => JSON.parse(r) as { principal_type: string; permission_group: string | null; principal_id: string });
    expect(parsed.some((r) => r.principal_type === 'token')).toBe(true);
    expect(parsed.some((r) => r.principal_type === 'member')).toBe(true);
    expect(parsed.some((r) => r.permission_group === null)).toBe(true);
    expect(parsed.some((r) => r.principal_id === 'tok-a')).toBe(true);
    expect(parsed.some((r) => r.principal_id === 'svc')).toBe(false);
  });

  it.each([[1], [7], [30], [90], [400]])('the same rows, row for row, over %i days (now and a month back)', async (days) => {
    for (const asOf of [new Date().toISOString(), ago(30)]) {
      const old = await rowsOf('access_used_0023', days, asOf);
      expect(await rowsOf('access_used', days, asOf)).toEqual(old);
    }
  });

  it('an empty window: no rows from either', async () => {
    expect(await rowsOf('access_used', 1, ago(1000))).toEqual([]);
    expect(await rowsOf('access_used_0023', 1, ago(1000))).toEqual([]);
  });
});

describe('pending_invitations (0025) against 0023\'s definition', () => {
  const all = async (view: string) => (await db.pool.query<{ r: string }>(`select row_to_json(p)::text as r from ${view} p order by 1`)).rows.map((x) => x.r);

  it('the same rows, row for row, with invitations found in the audit log and members without one', async () => {
    const old = await all('pending_invitations_0023');
    const rows = (await all('pending_invitations')).map((r) => JSON.parse(r) as { type: string; since_source: string });
    expect(rows.filter((r) => r.type === 'member' && r.since_source === 'audit_log').length).toBeGreaterThan(1);
    expect(rows.filter((r) => r.type === 'member' && r.since_source === 'first_seen_at').length).toBeGreaterThan(0);
    expect(await all('pending_invitations')).toEqual(old);
  });
});
