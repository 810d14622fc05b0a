import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { startEmbeddedPostgres } from '../../src/db/embedded.js';
import { childEnv } from '../helpers/daemon.js';
import { freePort } from '../helpers/ports.js';

// The demo's own numbers agree with each other and with what is stored: its closing summary,
// its check table (member-no-2fa) and `review start` on the same data, each count derived from
// the demo's database. Members are accepted memberships; pending invitations and organization
// members are counted apart, and each line says so.

const dir = mkdtempSync(join(tmpdir(), 'flarewatch-demo-numbers-'));
chmodSync(dir, 0o755);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sh(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((ok) => {
    execFile('npx', ['flarewatch', ...args], { cwd: process.cwd(), env, timeout: 600_000, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) =>
      ok({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

type Four = [number, number, number, number];
/** The numbers a line matching `re` prints (its groups), or why not. */
const num = (text: string, re: RegExp, what: string): Four => {
  const m = re.exec(text);
  if (!m) throw new Error(`${what}: no line matching ${re} in\n${text}`);
  return m.slice(1).map(Number) as Four;
};

async function stored(dataDir: string, port: number) {
  const server = await startEmbeddedPostgres(join(dataDir, 'demo'), port);
  const pool = new pg.Pool({ connectionString: server.url, max: 1 });
  const one = async (q: string) => Number((await pool.query(q)).rows[0].n);
  try {
    return {
      accepted: await one(`select count(*) as n from account_members where deleted_at is null and status <> 'pending'`),
      pending: await one(`select count(*) as n from account_members where deleted_at is null and status = 'pending'`),
      acceptedNo2fa: await one(`select count(*) as n from account_members where deleted_at is null and status <> 'pending' and two_factor_enabled is not true`),
      orgMembers: await one(`select count(*) as n from organization_members where deleted_at is null`),
      userInvites: await one(`select count(*) as n from user_invites where deleted_at is null and status = 'pending'`),
      no2faOpen: await one(`select count(*) as n from findings where rule_id = 'member-no-2fa' and status = 'open' and not suppressed`),
      reviewMembers: await one(`select count(*) as n from review_items where kind = 'member' and review_id = (select max(id) from reviews)`),
      reviewOrgMembers: await one(`select count(*) as n from review_items where kind = 'member' and snapshot ? 'organization_id' and review_id = (select max(id) from reviews)`),
    };
  } finally {
    await pool.end();
    await server.stop();
  }
}

describe('the numbers npm run demo prints', () => {
  it('summary, member-no-2fa and review start count members the same way, and say how', { timeout: 1_200_000 }, async () => {
    // The demo's server listens on FLAREWATCH_EMBEDDED_PG_PORT + 1.
    const port = await freePort();
    const dataDir = join(dir, 'data');
    const env = childEnv({ FLAREWATCH_DATA_DIR: dataDir, FLAREWATCH_EMBEDDED_PG_PORT: String(port - 1), LOG_LEVEL: 'warn' });
    const demo = await sh(['demo'], env);
    expect(demo.code, demo.stderr).toBe(0);
    const review = await sh(['review', 'start', '--demo'], env);
    expect(review.code, review.stderr).toBe(0);
    const db = await stored(dataDir, port);
    const out = demo.stdout;

    const [members, notCounted] = num(out, /^members +(\d+) accepted \((\d+) pending invitations not counted\)$/m, 'summary members');
    const [no2fa, adminNo2fa] = num(out, /^members .*\n {2}without 2FA +(\d+), (\d+) of them with administrative access \(member-no-2fa\)$/m, 'summary members without 2FA');
    const [org] = num(out, /^organization members +(\d+)$/m, 'summary organization members');
    const [orgNo2fa, orgAdminNo2fa] = num(out, /^organization members .*\n {2}without 2FA +(\d+), (\d+) of them with administrative access \(member-no-2fa\)$/m, 'summary organization members without 2FA');
    const [invitations, toJoin, toUser] = num(out, /^pending invitations +(\d+) \((\d+) to join an account, (\d+) to this user\)$/m, 'summary pending invitations');
    const [ruleOpen] = num(out, /^member-no-2fa +\S+ +(\d+)/m, 'check table member-no-2fa');
    const [total, accepted, pending, orgWithAccess] = num(review.stdout,
      /^frozen: (\d+) members \((\d+) accepted, (\d+) pending invitations?, (\d+) organization members? with access to an account\)/m, 'review start');

    // Each printed count is what is stored.
    expect({ members, notCounted, no2fa, org, toJoin, toUser }).toEqual({
      members: db.accepted, notCounted: db.pending, no2fa: db.acceptedNo2fa, org: db.orgMembers, toJoin: db.pending, toUser: db.userInvites,
    });
    expect({ total, orgWithAccess }).toEqual({ total: db.reviewMembers, orgWithAccess: db.reviewOrgMembers });
    expect(ruleOpen).toBe(db.no2faOpen);
    // And they agree with each other: the same members in the summary and in the review...
    expect([accepted, pending]).toEqual([members, notCounted]);
    expect(total).toBe(accepted + pending + orgWithAccess);
    expect(invitations).toBe(toJoin + toUser);
    // ...and member-no-2fa's open findings are the administrators among those without 2FA.
    expect(adminNo2fa + orgAdminNo2fa).toBe(ruleOpen);
    expect(adminNo2fa).toBeLessThanOrEqual(no2fa);
    expect(orgAdminNo2fa).toBeLessThanOrEqual(orgNo2fa);
    // The demo world has something in each (else the agreement above proves little).
    expect(Math.min(members, notCounted, no2fa, ruleOpen, orgWithAccess)).toBeGreaterThan(0);
  });
});
