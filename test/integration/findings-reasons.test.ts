// Every resolution records why: gone, an account removed (in the sync layer's words, read
// defensively before and after its deleted_reason column exists), and member keys that
// migrate to the documented form without opening (or alerting) anything again.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertsConfigSchema } from '../../src/config/alerts.js';
import { runChecks } from '../../src/commands/run.js';
import { MIGRATIONS_DIR } from '../../src/db/migrate.js';
import { fingerprint } from '../../src/findings/fingerprint.js';
import { checkContext, fakeRule, tokenHit, type CheckTestContext } from '../helpers/checks.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';

let db: TestDatabase;
let ctx: CheckTestContext;
const q = async (text: string, params: unknown[] = []) => (await db.pool.query(text, params)).rows;
const reasonOf = async (ruleId: string, key: string) =>
  (await q(`select f.status, f.resolution_reason, e.reason as event_reason from findings f join finding_events e on e.finding_id = f.id and e.transition = 'resolved' where f.fingerprint = $1`, [fingerprint(ruleId, key)]))[0];
const inAccount = (id: string, account: string) => ({ ...tokenHit(id), accountId: account });

beforeAll(async () => {
  db = await createTestDatabase();
  ctx = checkContext(db);
  await q(`insert into accounts (id, name, raw) values ('acc-gone', 'Gone', '{}'), ('acc-live', 'Live', '{}'), ('acc-later', 'Later', '{}')`);
});
afterAll(async () => db?.drop());

describe('resolution reasons', () => {
  it('a resource gone with its account: "account <id> deleted" while the sync layer records no reason', async () => {
    const { rule, state } = fakeRule('reasons.state');
    const det = fakeRule('reasons.detection');
    det.rule.kind = 'detection';
    state.hits = [inAccount('a', 'acc-gone'), inAccount('b', 'acc-live')];
    det.state.hits = [{ ...inAccount('d', 'acc-gone'), lastEventAt: '2030-01-01T00:00:00Z' }];
    await runChecks(ctx, { rules: [rule, det.rule] });
    // The sync marks the account's rows deleted; rules no longer return them.
    await q(`update accounts set deleted_at = now() where id = 'acc-gone'`);
    state.hits = [];
    det.state.hits = [];
    await runChecks(ctx, { rules: [rule, det.rule] });
    expect(await reasonOf('reasons.state', 'token:a')).toEqual({ status: 'resolved', resolution_reason: 'account acc-gone deleted', event_reason: 'account acc-gone deleted' });
    expect(await reasonOf('reasons.state', 'token:b')).toEqual({ status: 'resolved', resolution_reason: 'no longer detected', event_reason: 'no longer detected' });
    // A detection is never resolved by ageing out, but its account going away closes it.
    expect(await reasonOf('reasons.detection', 'token:d')).toEqual({ status: 'resolved', resolution_reason: 'account acc-gone deleted', event_reason: 'account acc-gone deleted' });
  });

  it('… and in the sync layer\'s words (accounts.deleted_reason)', async () => {
    const { rule, state } = fakeRule('reasons.later');
    state.hits = [inAccount('c', 'acc-later')];
    await runChecks(ctx, { rules: [rule] });
    await q(`update accounts set deleted_at = now(), deleted_reason = 'not watched (FLAREWATCH_ACCOUNTS / cloudflare.accounts)' where id = 'acc-later'`);
    state.hits = [];
    await runChecks(ctx, { rules: [rule] });
    expect((await reasonOf('reasons.later', 'token:c')).resolution_reason).toBe('account acc-later not watched (FLAREWATCH_ACCOUNTS / cloudflare.accounts)');
  });
});

describe('member resource keys', () => {
  it('old member:<id> findings migrate to member:<account>:<id> without being opened again; their incidents keep their key', async () => {
    const oldKey = 'member:m-42';
    const newKey = 'member:acc-live:m-42';
    const oldFp = fingerprint('member-no-2fa', oldKey);
    const [f] = await q(`insert into findings (fingerprint, rule_id, resource_key, resource_type, account_id, severity, title, facts)
      values ($1, 'member-no-2fa', $2, 'member', 'acc-live', 'high', 'Account member without two-factor authentication', '{}') returning id`, [oldFp, oldKey]);
    const [a] = await q(`insert into alerts (finding_id, fingerprint, kind, severity, event) values ($1, $2, 'opened', 'high', $3) returning id`,
      [f.id, oldFp, JSON.stringify({ alertId: 'x', kind: 'opened', fingerprint: oldFp, ruleId: 'member-no-2fa', title: 't', severity: 'high', resourceType: 'member', resourceKey: oldKey, facts: {}, firstSeenAt: '2030-01-01T00:00:00Z', occurredAt: '2030-01-01T00:00:00Z' })]);
    await q(`insert into alert_deliveries (alert_id, sink, status) values ($1, 'pd', 'sent')`, [a.id]);
    // The statement of the custom migration that rewrites the keys (it ran on an empty table when the template was migrated).
    const migration = readFileSync(`${MIGRATIONS_DIR}/0009_findings_kinds_keys_views.sql`, 'utf8').split('--> statement-breakpoint').find((s) => s.includes(`'member:' || account_id || ':'`))!;
    await q(migration);
    expect((await q(`select resource_key, fingerprint from findings where id = $1`, [f.id]))[0]).toEqual({ resource_key: newKey, fingerprint: fingerprint('member-no-2fa', newKey) });
    const local = checkContext(db);
    local.config.alerts = alertsConfigSchema.parse({ sinks: { pd: { kind: 'pagerduty', routingKey: 'R0UTINGKEYmembers0123456789abcdef', minSeverity: 'high' } }, logSink: false });
    const { rule, state } = fakeRule('member-no-2fa', { severity: 'medium' });
    state.hits = [{ resourceKey: newKey, resourceType: 'member', accountId: 'acc-live', severity: 'high', facts: {} }];
    const r = await runChecks(local, { rules: [rule] });
    expect(r.transitions).toEqual([]);
    // Fixed later: the resolution goes to PagerDuty under the key its incident was opened with.
    state.hits = [];
    await runChecks(local, { rules: [rule] });
    const resolved = await q(`select a.fingerprint, a.event->>'fingerprint' as dedup, array_agg(d.sink) as sinks from alerts a join alert_deliveries d on d.alert_id = a.id where a.finding_id = $1 and a.kind = 'resolved' group by 1, 2`, [f.id]);
    expect(resolved).toEqual([{ fingerprint: oldFp, dedup: oldFp, sinks: ['pd'] }]);
  });
});
