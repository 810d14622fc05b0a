import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError } from '../../src/util/not-found.js';
import { historyMemberCommand, historyTokenCommand } from '../../src/commands/history.js';
import { groupByName, roleByName } from '../../src/simulator/catalog.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { succeeded } from '../helpers/audit.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

// One token's policy is widened (by alice, as the audit log records) and narrowed again, a member
// gains a role and is removed, a second sync of an unchanged world writes nothing: every change a
// sync observes is a version, and the point-in-time functions and `history` read them back.

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.parse('2026-03-01T00:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const ZONE_ALL = 'com.cloudflare.api.account.zone.*';
const grant = (group: string, resource: string) => [{ id: 'pol-1', effect: 'allow', permission_groups: [{ id: groupByName(group).id, name: group }], resources: { [resource]: '*' } }];

let db: TestDatabase;
let sim: Simulator;
let ctx: TestContext;
const clock = { t: T0 };
let account: string;
let tokenId: string;
let tokenName: string;
let zone: string;
let widenEvent: string;

const INVENTORY = ['accounts', 'account-tokens', 'account-permission-groups', 'members', 'user-tokens', 'user-invites', 'permission-groups'];
async function syncAt(t: number, streams = INVENTORY) {
  clock.t = t;
  const outcomes = await syncAll(ctx, { streams });
  for (const o of outcomes) succeeded(o);
  return outcomes;
}
const rows = async <T = Record<string, unknown>>(text: string, params: unknown[] = []) => (await db.pool.query(text, params)).rows as T[];

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({
    seed: 111, rateLimit: false, now: () => clock.t,
    size: { accounts: 2, userTokens: 5, accountTokensPerAccount: 4, membersPerAccount: 8, userInvites: 2, userAuditEntries: 0, accountAuditEntries: 0, accountAuditV1Entries: 0 },
  });
  ctx = testContext(db, sim, { LOG_LEVEL: 'info' });
  ctx.now = () => new Date(clock.t);
  account = sim.world.accounts[0]!.id;
  zone = `com.cloudflare.api.account.zone.${sim.world.zones.get(account)![0]!.id}`;
  const token = sim.world.accountTokens(account)[0]!;
  tokenId = token.id;
  tokenName = 'deploy dns';
  sim.world.updateToken(tokenId, { name: tokenName, policies: grant('DNS Read', zone) as never });
  await syncAt(T0);

  // Widened by alice at 00:50, as the v2 log records it (and the v1 log too: one event, two copies).
  clock.t = T0 + 50 * MIN;
  sim.world.updateToken(tokenId, { policies: grant('DNS Write', ZONE_ALL) as never });
  const actor = { id: 'alice-id', email: 'alice@example.com', ip_address: '192.0.2.10', type: 'user', context: 'dash' };
  widenEvent = (sim.world.auditStream('account-v2', account).append([{
    time: iso(T0 + 50 * MIN), action: { type: 'update', result: 'success', description: 'API token policies updated' }, actor,
    resource: { type: 'api_token', id: tokenId, product: 'API Tokens', request: { policies: grant('DNS Write', ZONE_ALL) }, response: {} },
  }]) as Array<{ id: string }>)[0]!.id;
  sim.world.auditStream('account-v1', account).append([{
    time: iso(T0 + 50 * MIN), action: { type: 'update', result: true }, actor: { id: 'alice-id', email: 'alice@example.com', ip: '192.0.2.10', type: 'user' },
    resource: { type: 'API_Token', id: tokenId }, newValueJson: { policies: grant('DNS Write', ZONE_ALL) },
  }]);
  await syncAt(T0 + HOUR);

  clock.t = T0 + 110 * MIN;
  sim.world.updateToken(tokenId, { policies: grant('DNS Read', zone) as never });
  await syncAt(T0 + 2 * HOUR);
  await syncAt(T0 + 3 * HOUR, ['account-audit', 'account-audit-v1']);
});

afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

describe('a token widened, then narrowed', () => {
  it('has three versions: created narrow, changed wide, changed narrow again; each says which walk saw it', async () => {
    const v = await rows<{ change: string; changed_fields: string[]; valid_from: Date; valid_to: Date | null; stream: string; run_stream: string; groups: string[] }>(`
      select v.change, v.changed_fields, v.valid_from, v.valid_to, v.stream, r.stream as run_stream,
             array(select g->>'name' from jsonb_array_elements(v.policies) p, jsonb_array_elements(p->'permission_groups') g) as groups
      from api_token_versions v left join sync_runs r on r.id = v.run_id where v.token_id = $1 order by v.valid_from`, [tokenId]);
    expect(v.map((x) => [x.change, x.changed_fields, x.groups, x.valid_from.toISOString(), x.valid_to?.toISOString() ?? null])).toEqual([
      ['created', [], ['DNS Read'], iso(T0), iso(T0 + HOUR)],
      ['changed', ['policies'], ['DNS Write'], iso(T0 + HOUR), iso(T0 + 2 * HOUR)],
      ['changed', ['policies'], ['DNS Read'], iso(T0 + 2 * HOUR), null],
    ]);
    for (const x of v) expect([x.stream, x.run_stream]).toEqual([`account-tokens:${account}`, `account-tokens:${account}`]);
  });

  it('token_grants_at gives the wide grant for an instant in between, the narrow one before and after', async () => {
    const at = async (t: number) => rows<{ g: string; r: string }>(
      `select permission_group_name as g, resource_key as r from token_grants_at($1) where token_id = $2`, [iso(t), tokenId]);
    expect(await at(T0 + 90 * MIN)).toEqual([{ g: 'DNS Write', r: ZONE_ALL }]);
    expect(await at(T0 + 30 * MIN)).toEqual([{ g: 'DNS Read', r: zone }]);
    expect(await at(T0 + 150 * MIN)).toEqual([{ g: 'DNS Read', r: zone }]);
    // Before flarewatch first saw it, nothing is known.
    expect(await at(T0 - HOUR)).toEqual([]);
  });

  it('history token shows the audit event that widened it, its actor beside the version it explains', async () => {
    const { output, exitCode } = await historyTokenCommand(ctx, tokenId, false);
    expect(exitCode).toBe(0);
    const lines = output.split('\n');
    expect(lines[0]).toBe(`token ${tokenId} "${tokenName}", account-owned (account ${account})`);
    const event = lines.find((l) => l.includes(widenEvent))!;
    expect(event).toMatch(/^2026-03-01T00:50:00Z\s+audit update\s+api_token \[account_v2\+account_v1 \S+\] → version 2\s+alice@example\.com from 192\.0\.2\.10$/);
    const v2 = lines.find((l) => / v2 changed /.test(l))!;
    expect(v2).toContain(`policies: + allow DNS Write on ${ZONE_ALL}; − allow DNS Read on ${zone}`);
    expect(v2).toContain('alice@example.com from 192.0.2.10 at 2026-03-01T00:50:00Z');
    expect(v2).toContain(`seen by account-tokens:${account}`);
    // The one event is one line, although both logs hold it.
    expect(lines.filter((l) => l.includes(' audit '))).toHaveLength(1);

    const json = JSON.parse((await historyTokenCommand(ctx, tokenName, true)).output);
    const versions = json.timeline.filter((e: { kind: string }) => e.kind === 'version');
    expect(versions.map((e: { version: number; cause: { id: string } | null }) => [e.version, e.cause?.id ?? null])).toEqual([[1, null], [2, widenEvent], [3, null]]);
    expect(json.timeline.find((e: { kind: string }) => e.kind === 'event')).toMatchObject({ explains: 'version 2', event: { sources: ['account_v2', 'account_v1'], actor_ip: '192.0.2.10' } });
  });

  it('an unknown or ambiguous token is refused, naming the candidates', async () => {
    await expect(historyTokenCommand(ctx, 'no-such-token', false)).rejects.toThrow(new NotFoundError('history token: no token with id or name "no-such-token"'));
    const twin = sim.world.addAccountToken(account, { name: tokenName });
    await syncAt(T0 + 4 * HOUR, ['account-tokens']);
    const r = await historyTokenCommand(ctx, tokenName, false);
    expect(r.exitCode).toBe(1);
    expect(r.output).toContain(`2 tokens are named "${tokenName}"; give the id:`);
    expect(r.output).toContain(twin.id);
    sim.world.removeToken(twin.id);
    await syncAt(T0 + 5 * HOUR, ['account-tokens']);
  });
});

describe('the point-in-time functions', () => {
  it('return the same columns as the views, and at now() the same rows', async () => {
    for (const [fn, view] of [['token_grants_at', 'token_grants'], ['member_access_at', 'member_access']]) {
      const a = await db.pool.query(`select * from ${fn}(now()) limit 0`);
      const b = await db.pool.query(`select * from ${view} limit 0`);
      expect(a.fields.map((f) => [f.name, f.dataTypeID])).toEqual(b.fields.map((f) => [f.name, f.dataTypeID]));
      const diff = await rows<{ n: number }>(`select (select count(*) from (select * from ${fn}(now()) except all select * from ${view}) x)::int
        + (select count(*) from (select * from ${view} except all select * from ${fn}(now())) y)::int as n`);
      expect(diff[0]!.n, fn).toBe(0);
      expect((await rows<{ n: number }>(`select count(*)::int as n from ${view}`))[0]!.n).toBeGreaterThan(5);
    }
  });
});

describe('a member', () => {
  it('a role change is a version with the fields that changed; a removal closes it with the reason; member_access_at sees each', async () => {
    // Not the owner (a member of every account): one membership.
    const m = sim.world.members(account).slice(1).find((x) => x.status === 'accepted' && x.roles.every((r) => r.name !== 'Administrator'))!;
    const before = m.roles.map((r) => r.name);
    clock.t = T0 + 6 * HOUR;
    sim.world.updateMember(account, m.id, { roles: [roleByName('Administrator')] });
    await syncAt(T0 + 6 * HOUR, ['members']);
    clock.t = T0 + 7 * HOUR;
    sim.world.removeMember(account, m.id);
    await syncAt(T0 + 7 * HOUR, ['members']);

    const v = await rows<{ change: string; changed_fields: string[]; role_names: string[]; ended_by: string | null; end_reason: string | null }>(
      `select change, changed_fields, role_names, ended_by, end_reason from account_member_versions where member_id = $1 order by valid_from`, [m.id]);
    expect(v).toEqual([
      { change: 'created', changed_fields: [], role_names: before, ended_by: 'change', end_reason: null },
      { change: 'changed', changed_fields: ['role_ids', 'role_names'], role_names: ['Administrator'], ended_by: 'deletion', end_reason: 'confirmed gone: its detail endpoint answered 404' },
    ]);
    const rolesAt = async (t: number) => (await rows<{ role_names: string[] }>(`select role_names from member_access_at($1) where member_id = $2`, [iso(t), m.id])).map((r) => r.role_names);
    expect(await rolesAt(T0 + 5 * HOUR)).toEqual([before]);
    expect(await rolesAt(T0 + 6.5 * HOUR)).toEqual([['Administrator']]);
    expect(await rolesAt(T0 + 8 * HOUR)).toEqual([]);

    const { output } = await historyMemberCommand(ctx, m.email.toUpperCase(), false);
    expect(output).toContain(`member ${m.email.toUpperCase()}: 1 membership(s)`);
    expect(output).toMatch(/v2 changed\s+role_ids: .*role_names: \+ Administrator/);
    expect(output).toMatch(/2026-03-01T07:00:00Z\s+\S+\s+deleted\s+confirmed gone: its detail endpoint answered 404/);
    await expect(historyMemberCommand(ctx, 'nobody@example.com', false)).rejects.toThrow(new NotFoundError('history member: no member with email "nobody@example.com"'));
  });

  it('a member who comes back gets a restored version', async () => {
    const m = sim.world.members(account).slice(1).find((x) => x.status === 'accepted')!;
    clock.t = T0 + 8 * HOUR;
    const gone = sim.world.removeMember(account, m.id);
    await syncAt(T0 + 8 * HOUR, ['members']);
    sim.world.members(account).push(gone);
    await syncAt(T0 + 9 * HOUR, ['members']);
    const v = await rows<{ change: string; valid_from: Date }>(`select change, valid_from from account_member_versions where member_id = $1 order by valid_from`, [m.id]);
    expect(v.map((x) => [x.change, x.valid_from.toISOString()])).toEqual([['created', iso(T0)], ['restored', iso(T0 + 9 * HOUR)]]);
  });
});

describe('a sync that observes no change', () => {
  it('writes no version and rewrites none', async () => {
    const tables = ['api_token_versions', 'account_member_versions', 'account_versions', 'user_invite_versions'];
    const snapshot = async () => Promise.all(tables.map((t) => rows(`select version_id, xmin::text, valid_to from ${t} order by version_id`)));
    const before = await snapshot();
    expect(before.every((t) => t.length > 0)).toBe(true);
    await syncAt(T0 + 10 * HOUR);
    expect(await snapshot()).toEqual(before);
  });

  it('history never holds a secret: no raw object, no token value', async () => {
    const cols = await rows<{ table_name: string; column_name: string }>(`
      select table_name, column_name from information_schema.columns
      where table_name like '%\\_versions' and column_name in ('raw', 'value', 'secret')`);
    expect(cols).toEqual([]);
    const dump = (await rows<{ t: string }>(`select v::text as t from api_token_versions v`)).map((r) => r.t).join('\n');
    expect(dump).not.toContain(sim.credentials.apiToken);
  });
});
