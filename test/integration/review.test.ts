import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reviewDiffCommand } from '../../src/commands/review-diff.js';
import { reviewAttestCommand, reviewExportCommand, reviewListCommand, reviewStartCommand, reviewStatusCommand } from '../../src/commands/review.js';
import { EXPORT_FORMATS } from '../../src/review/export.js';
import { runChecks } from '../../src/rules/engine.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { NotFoundError } from '../../src/util/not-found.js';
import { succeeded } from '../helpers/audit.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { needTool, toolPath } from '../helpers/tools.js';

// The access-review workflow end to end: a review is started and attested in part; then a member
// is added and a token removed; a second review sees exactly those as its diff, and the first
// review's evidence pack, exported again, is the same to the byte.

const HOUR = 3_600_000;
const T0 = Date.parse('2026-04-01T09:00:00Z');
const INJECTED = '=HYPERLINK("http://203.0.113.9/x","click")';
const MARKUP = `<img src=x onerror="document.title='pwned'"><script>document.title='pwned'</script>`;
// Debian's chromium, driven by playwright-core, as in queue-ui.test.ts.
const HAS_CHROMIUM = needTool('chromium', 'review HTML browser test');
const CHROMIUM = toolPath('chromium')!;
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let db: TestDatabase;
let sim: Simulator;
let ctx: TestContext;
const clock = { t: T0 };
let account: string;
let keptMember: { id: string; email: string };
let revokedToken: { id: string; name: string };
let removedToken: { id: string; name: string };
let addedMember: { id: string; email: string };
let first: number;
let second: number;
const firstExports: Record<string, string> = {};

async function syncAt(t: number) {
  clock.t = t;
  for (const o of await syncAll(ctx, { streams: [] })) succeeded(o);
  await runChecks(ctx);
}
const idOf = (output: string) => Number(/^review (\d+) /.exec(output)![1]);
const exportAll = async (id: number) =>
  Object.fromEntries(await Promise.all(EXPORT_FORMATS.map(async (f) => [f, (await reviewExportCommand(ctx, id, f)).output] as const)));

beforeAll(async () => {
  db = await createTestDatabase();
  sim = await startSimulator({
    seed: 1101, rateLimit: false, now: () => clock.t,
    size: { accounts: 2, userTokens: 3, accountTokensPerAccount: 3, membersPerAccount: 4, userInvites: 1, userAuditEntries: 5, accountAuditEntries: 5, accountAuditV1Entries: 5, auditDays: 1 },
  });
  ctx = testContext(db, sim, { LOG_LEVEL: 'info' });
  ctx.now = () => new Date(clock.t);
  account = sim.world.accounts[0]!.id;
  const [a, b, c] = sim.world.accountTokens(account);
  sim.world.updateToken(a!.id, { name: INJECTED });
  sim.world.updateToken(c!.id, { name: MARKUP });
  revokedToken = { id: a!.id, name: INJECTED };
  removedToken = { id: b!.id, name: b!.name };
  const m = sim.world.members(account).slice(1).find((x) => x.status === 'accepted')!;
  keptMember = { id: m.id, email: m.email };
  await syncAt(T0);

  clock.t = T0 + HOUR;
  first = idOf((await reviewStartCommand(ctx, { name: 'Q2 access review', by: 'carol@example.com' })).output);
  clock.t = T0 + HOUR + 60_000;
  await reviewAttestCommand(ctx, first, [keptMember.email], { decision: 'keep', by: 'carol@example.com', note: 'on-call engineer' });
  await reviewAttestCommand(ctx, first, [revokedToken.id], { decision: 'keep', by: 'dave@example.com' });
  clock.t = T0 + HOUR + 120_000;
  await reviewAttestCommand(ctx, first, [`token:${revokedToken.id}`], { decision: 'revoke', by: 'carol@example.com', note: 'unused since January' });
  Object.assign(firstExports, await exportAll(first));

  // The world moves on: a member is added, a token removed.
  clock.t = T0 + 2 * HOUR;
  const added = sim.world.addMember(account);
  addedMember = { id: added.id, email: added.email };
  sim.world.removeToken(removedToken.id);
  await syncAt(T0 + 3 * HOUR);
  clock.t = T0 + 4 * HOUR;
  second = idOf((await reviewStartCommand(ctx, { by: 'carol@example.com' })).output);
}, 240_000);

afterAll(async () => {
  await sim?.close();
  await db?.drop();
});

describe('review start', () => {
  it('freezes every live member and token with what a reviewer signs off, and the open findings on them', async () => {
    const itemsOf = async (id: number) => (await db.pool.query(`select item_key, kind, label, snapshot from review_items where review_id = $1`, [id])).rows;
    const live = (await db.pool.query(`select (select count(*) from account_members where deleted_at is null)::int as m, (select count(*) from api_tokens where deleted_at is null)::int as t`)).rows[0];
    const [items, now] = [await itemsOf(first), await itemsOf(second)];
    // Members, and the organization's member who holds access to an account without a membership of it (seeded: one).
    const orgOnly = now.filter((i) => i.item_key.includes(':organization-member:'));
    expect(orgOnly).toHaveLength(1);
    expect(orgOnly[0]!.snapshot.access).toEqual([expect.stringMatching(/^Super Administrator - All Privileges via organization /)]);
    expect([now.filter((i) => i.kind === 'member').length, now.filter((i) => i.kind === 'token').length]).toEqual([live.m + 1, live.t]);
    // The first review holds the world before a member was added and a token removed.
    expect([items.filter((i) => i.kind === 'member').length, items.filter((i) => i.kind === 'token').length]).toEqual([live.m - 1 + 1, live.t + 1]);
    const token = items.find((i) => i.item_key === `token:${revokedToken.id}`)!;
    expect(token.label).toBe(INJECTED);
    expect(token.snapshot).toMatchObject({ owner_type: 'account', account_id: account, status: 'active' });
    expect(token.snapshot.grants.length).toBeGreaterThan(0);
    const member = items.find((i) => i.item_key === `member:${account}:${keptMember.id}`)!;
    expect(member.snapshot).toMatchObject({ email: keptMember.email, status: 'accepted' });
    expect(Array.isArray(member.snapshot.roles)).toBe(true);
    const findings = (await db.pool.query(`select count(*)::int as n from review_findings where review_id = $1`, [first])).rows[0].n;
    expect(findings).toBeGreaterThan(0);
  });

  it('refuses an account it does not watch, storing nothing', async () => {
    const before = (await db.pool.query(`select count(*)::int as n from reviews`)).rows[0].n;
    await expect(reviewStartCommand(ctx, { accounts: ['nope'] })).rejects.toThrow(/review start: no watched account "nope"/);
    expect((await db.pool.query(`select count(*)::int as n from reviews`)).rows[0].n).toBe(before);
  });

  it('a scoped review holds only that account and its members, and is compared with reviews of the same scope', async () => {
    clock.t = T0 + 5 * HOUR;
    const out = (await reviewStartCommand(ctx, { accounts: [` ${account.toUpperCase()} `] })).output;
    expect(out.split('\n')[0]).toMatch(new RegExp(`^review \\d+ "access review 2026-04-01" started 2026-04-01T14:00:00Z \\(accounts ${account}\\)$`));
    expect(out).toContain('first review of this scope');
    const accounts = (await db.pool.query(`select distinct account_id from review_items where review_id = $1 and kind = 'member'`, [idOf(out)])).rows;
    expect(accounts).toEqual([{ account_id: account }]);
  });
});

describe('review attest and status', () => {
  it('keeps every decision; the latest one is in force; status lists what is undecided', async () => {
    const decisions = (await db.pool.query(`select item_key, decision, decided_by, note from review_decisions where review_id = $1 order by id`, [first])).rows;
    expect(decisions).toEqual([
      { item_key: `member:${account}:${keptMember.id}`, decision: 'keep', decided_by: 'carol@example.com', note: 'on-call engineer' },
      { item_key: `token:${revokedToken.id}`, decision: 'keep', decided_by: 'dave@example.com', note: null },
      { item_key: `token:${revokedToken.id}`, decision: 'revoke', decided_by: 'carol@example.com', note: 'unused since January' },
    ]);
    const status = JSON.parse((await reviewStatusCommand(ctx, first, true)).output);
    expect(status).toMatchObject({ review: first, decided: 2, keep: 1, revoke: 1 });
    expect(status.undecided).toBe(status.items - 2);
    expect(status.undecided_items.map((i: { key: string }) => i.key)).not.toContain(`token:${revokedToken.id}`);
    expect(status.undecided_items.map((i: { key: string }) => i.key)).toContain(`token:${removedToken.id}`);
    const text = (await reviewStatusCommand(ctx, first, false)).output;
    expect(text.split('\n')[0]).toBe(`review ${first} "Q2 access review" (2026-04-01T10:00:00Z): ${status.items} items, 2 decided (1 keep, 1 revoke), ${status.undecided} undecided`);
  });

  it('decisions are data: an update or delete is refused by the database', async () => {
    await expect(db.pool.query(`update review_decisions set decision = 'keep' where review_id = $1`, [first])).rejects.toThrow(/append-only/);
    await expect(db.pool.query(`delete from review_items where review_id = $1`, [first])).rejects.toThrow(/append-only/);
  });

  it('an unknown item, or a name that fits two, is refused and records nothing', async () => {
    const count = async () => (await db.pool.query(`select count(*)::int as n from review_decisions`)).rows[0].n;
    const before = await count();
    await expect(reviewAttestCommand(ctx, first, [keptMember.email, 'no-such-thing'], { decision: 'keep', by: 'x' })).rejects.toThrow(NotFoundError);
    await expect(reviewAttestCommand(ctx, first, [keptMember.email], { decision: 'keep', by: '  ' })).rejects.toThrow(/--by/);
    expect(await count()).toBe(before);
  });
});

describe('review diff', () => {
  it('lists exactly the member added and the token removed since the previous review, and since when', async () => {
    const diff = JSON.parse((await reviewDiffCommand(ctx, { review: second, json: true })).output);
    expect(diff.from.id).toBe(first);
    expect(diff.added.map((i: { key: string }) => i.key)).toEqual([`member:${account}:${addedMember.id}`]);
    expect(diff.removed.map((i: { key: string }) => i.key)).toEqual([`token:${removedToken.id}`]);
    expect(diff.changed).toEqual([]);
    expect(diff.added[0].since).toBe(new Date(T0 + 3 * HOUR).toISOString());
    expect(diff.removed[0].since).toBe(new Date(T0 + 3 * HOUR).toISOString());
    const text = (await reviewDiffCommand(ctx, { review: second })).output.split('\n');
    expect(text).toEqual([
      `review ${second} against review ${first} (2026-04-01T10:00:00Z → 2026-04-01T13:00:00Z): 1 added, 1 removed, 0 changed`,
      `+ member member:${account}:${addedMember.id} (${addedMember.email}), since 2026-04-01T12:00:00Z`,
      `− token token:${removedToken.id} (${removedToken.name}), since 2026-04-01T12:00:00Z`,
    ]);
  });

  it('review list shows every review, newest first, with what is undecided; an unknown review is refused', async () => {
    const list = JSON.parse((await reviewListCommand(ctx, true)).output) as Array<{ id: number; name: string; items: number; decided: number; accounts: string[] | null }>;
    expect(list.map((r) => r.id).slice(-2)).toEqual([second, first]);
    expect(list.find((r) => r.id === first)).toMatchObject({ name: 'Q2 access review', decided: 2, accounts: null });
    await expect(reviewExportCommand(ctx, 999, 'json')).rejects.toThrow('review export: no review 999 (npx flarewatch review list shows them)');
  });

  it('the first review of a scope has nothing to compare with', async () => {
    await expect(reviewDiffCommand(ctx, { review: first })).rejects.toThrow(/first of its scope/);
  });
});

describe('review export', () => {
  it('of the first review is unchanged by everything that happened later', async () => {
    expect(await exportAll(first)).toEqual(firstExports);
  });

  it('json: scope, freshness, every item with its decision, reviewer and time, findings and controls', () => {
    const e = JSON.parse(firstExports.json!);
    expect(e).toMatchObject({ format: 'flarewatch-access-review/2', generated_at: '2026-04-01T10:00:00Z', review: { id: first, name: 'Q2 access review', started_by: 'carol@example.com' } });
    expect(e.scope.all_watched_accounts).toBe(true);
    expect(e.freshness.length).toBeGreaterThan(3);
    for (const f of e.freshness) expect(f.last_success_at).toBe('2026-04-01T09:00:00Z');
    const token = e.items.find((i: { key: string }) => i.key === `token:${revokedToken.id}`);
    expect(token.decision).toEqual({ decision: 'revoke', by: 'carol@example.com', at: '2026-04-01T10:02:00Z', note: 'unused since January' });
    expect(token.decisions).toHaveLength(2);
    expect(e.findings.length).toBeGreaterThan(0);
    expect(e.findings.every((f: { controls: string[] }) => Array.isArray(f.controls))).toBe(true);
    expect(e.controls.map((c: { ref: string }) => c.ref)).toEqual(expect.arrayContaining(['SOC2:CC6.2', 'ISO27001:A.5.18', 'PCI:7.2.4']));
    expect(e.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('csv: one row per item, a cell that would be a formula stays text', () => {
    const lines = firstExports.csv!.trimEnd().split('\r\n');
    expect(lines[0]!.split(',').slice(0, 6)).toEqual(['review_id', 'review_name', 'generated_at', 'scope', 'oldest_stream_success', 'kind']);
    const row = lines.find((l) => l.includes(`token:${revokedToken.id}`))!;
    expect(row).toContain(`"'=HYPERLINK(""http://203.0.113.9/x"",""click"")"`);
    expect(row).toContain(',revoke,carol@example.com,2026-04-01T10:02:00Z,unused since January,');
    for (const l of lines.slice(1)) expect(l.split(',').some((c) => /^[=+\-@]/.test(c))).toBe(false);
  });

  it('md: the summary and each item with its decision', () => {
    expect(firstExports.md).toContain(`# Access review ${first}: Q2 access review`);
    expect(firstExports.md).toMatch(/\| Decided \| 2 \(1 keep, 1 revoke\), \d+ undecided \|/);
    // A name from Cloudflare is shown, never obeyed: no table cell break, no markup, no formula.
    expect(firstExports.md).toContain(`| &lt;img src=x onerror="document.title='pwned'"&gt;&lt;script&gt;`);
    expect(firstExports.md).toContain('## Control references');
  });
});

describe.runIf(HAS_CHROMIUM)('review export --format html, opened in a real browser', () => {
  it('is one self-contained printable page: what it shows, nothing fetched, nothing from Cloudflare obeyed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flarewatch-review-'));
    const file = join(dir, 'review.html');
    writeFileSync(file, firstExports.html!);
    const browser = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: CHROMIUM, headless: true, args: ARGS });
    try {
      const page = await browser.newPage();
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      await page.goto(pathToFileURL(file).href);
      expect(await page.title()).toBe(`Access review ${first}: Q2 access review`);
      expect(requests).toEqual([pathToFileURL(file).href]);
      const summary = await page.locator('#summary').innerText();
      expect(summary).toMatch(/Decided\s+2 \(1 keep, 1 revoke\), \d+ undecided/);
      expect(summary).toContain('2026-04-01T10:00:00Z (every item is as it was at this time)');
      const row = page.locator(`#tokens tr[data-key="token:${revokedToken.id}"]`);
      expect(await row.locator('td').first().innerText()).toBe(INJECTED);
      expect(await row.locator('td.revoke').innerText()).toBe('revoke');
      expect(await row.innerText()).toContain('carol@example.com\t2026-04-01T10:02:00Z\tunused since January');
      const kept = page.locator('#members tr', { hasText: keptMember.email });
      expect(await kept.locator('td.keep').innerText()).toBe('keep');
      // A token named like markup is shown as its name, never run.
      expect(await page.locator('#tokens').innerText()).toContain(MARKUP);
      expect(await page.locator('img, script').count()).toBe(0);
      expect(await page.locator('#digest').innerText()).toBe(JSON.parse(firstExports.json!).digest);
      expect(await page.locator('#controls').innerText()).toContain('PCI DSS v4.0 7.2.4');
      const pdf = await page.pdf({ format: 'A4', landscape: true });
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('the review commands through the CLI', () => {
  const exec = promisify(execFile);
  const cli = (args: string[]) =>
    exec(process.execPath, ['--import', 'tsx', 'src/cli.ts', 'review', ...args], { env: { ...process.env, DATABASE_URL: db.url, LOG_LEVEL: 'silent', FLAREWATCH_CONFIG: '' }, cwd: process.cwd() })
      .then((r) => ({ ...r, code: 0 }), (e: { code: number; stdout: string; stderr: string }) => e);

  it('attest needs --keep or --revoke (a usage error, exit 2); a decision then shows in status; export writes the file', async () => {
    const none = await cli(['attest', addedMember.email, '--by', 'erin@example.com', '--review', String(second)]);
    expect([none.code, none.stderr]).toEqual([2, 'flarewatch: review attest: --keep or --revoke\n']);
    const ok = await cli(['attest', addedMember.email, '--keep', '--by', 'erin@example.com', '--note', 'new SRE', '--review', String(second)]);
    expect([ok.code, ok.stdout]).toEqual([0, `review ${second}:\nkeep member:${account}:${addedMember.id} (${addedMember.email}) by erin@example.com\n`]);
    const status = await cli(['status', String(second)]);
    expect(status.stdout).toMatch(new RegExp(`^review ${second} .*: \\d+ items, 1 decided \\(1 keep, 0 revoke\\)`));
    expect(status.stdout).not.toContain(`member:${account}:${addedMember.id}`);
    const out = join(mkdtempSync(join(tmpdir(), 'flarewatch-export-')), 'first.csv');
    const exp = await cli(['export', '--review', String(first), '--format', 'csv', '--output', out]);
    expect([exp.code, exp.stdout]).toEqual([0, `wrote review ${first} as csv to ${out}\n`]);
    // stdout ends with the one newline print adds; the file is the pack itself.
    expect(readFileSync(out, 'utf8')).toBe(`${firstExports.csv}\n`);
  }, 240_000);
});
