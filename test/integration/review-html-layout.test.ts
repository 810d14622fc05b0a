import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reviewAttestCommand, reviewExportCommand, reviewStartCommand } from '../../src/commands/review.js';
import { runChecks } from '../../src/rules/engine.js';
import { startSimulator, type Simulator } from '../../src/simulator/index.js';
import { syncAll } from '../../src/sync/sync-all.js';
import { succeeded } from '../helpers/audit.js';
import { testContext, type TestContext } from '../helpers/context.js';
import { createTestDatabase, type TestDatabase } from '../helpers/database.js';
import { needTool, toolPath } from '../helpers/tools.js';

// The HTML evidence pack as a reader sees it, laid out by a real browser at common widths and on
// paper: a realistic review (members, pending invitations, tokens, long names, decisions with
// notes), and from the layout itself: no word broken across lines (only ids and long tokens may
// break), status and decision on one line, no internal column name in the text, nothing wider
// than the page when printed. FLAREWATCH_TEST_SCREENSHOTS=<folder> keeps a screenshot of each.

const HAS_CHROMIUM = needTool('chromium', 'review HTML layout test');
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const T0 = Date.parse('2026-04-01T09:00:00Z');
/** A4 landscape (the export's @page) less its 12 mm margins, in CSS pixels: 273 mm. */
const A4_LANDSCAPE_CONTENT = Math.floor((273 / 25.4) * 96);
const SHOTS = process.env.FLAREWATCH_TEST_SCREENSHOTS;

let db: TestDatabase;
let sim: Simulator;
let ctx: TestContext;
let dir: string;
let file: string;
let browser: BrowserContext;
let cloudflareWords: Set<string>;
const clock = { t: T0 };

beforeAll(async () => {
  if (!HAS_CHROMIUM) return;
  db = await createTestDatabase();
  sim = await startSimulator({
    seed: 42, rateLimit: false, now: () => clock.t,
    size: { accounts: 2, membersPerAccount: 15, accountTokensPerAccount: 8, userTokens: 6, userInvites: 2, userAuditEntries: 100, accountAuditEntries: 300, accountAuditV1Entries: 60, auditDays: 7 },
  });
  ctx = testContext(db, sim);
  ctx.now = () => new Date(clock.t);
  const account = sim.world.accounts[0]!.id;
  const [a, b] = sim.world.accountTokens(account);
  sim.world.updateToken(a!.id, { name: 'Terraform production pipeline for the payments platform in eu-west-1 and us-east-2' });
  sim.world.updateToken(b!.id, { name: 'legacy-wordpress-marketing-site-deploy-bot-2019' });
  const m = sim.world.members(account).find((x) => x.status === 'accepted')!;
  sim.world.updateMember(account, m.id, { email: 'alexandra.konstantinopoulou-vanderberg@subsidiary.example.com' });
  for (const o of await syncAll(ctx, { streams: [] })) succeeded(o);
  await runChecks(ctx);
  clock.t = T0 + 3_600_000;
  const id = Number(/^review (\d+) /.exec((await reviewStartCommand(ctx, { name: 'Q2 access review', by: 'carol@example.com' })).output)![1]);
  await reviewAttestCommand(ctx, id, [`token:${a!.id}`], { decision: 'keep', by: 'security-team-lead@example.com', note: 'deploys production; owner confirmed in the change review of March, rotation planned' });
  await reviewAttestCommand(ctx, id, [`token:${b!.id}`], { decision: 'revoke', by: 'carol@example.com', note: 'unused since the site moved' });
  await reviewAttestCommand(ctx, id, [`member:${account}:${m.id}`], { decision: 'keep', by: 'carol@example.com' });
  cloudflareWords = new Set((await db.pool.query(`select distinct action_type from audit_logs where action_type is not null`)).rows.map((r) => r.action_type as string));
  dir = mkdtempSync(join(tmpdir(), 'flarewatch-review-layout-'));
  file = join(dir, 'review.html');
  writeFileSync(file, (await reviewExportCommand(ctx, id, 'html')).output);
  browser = await chromium.launchPersistentContext(join(dir, 'profile'), { executablePath: toolPath('chromium')!, headless: true, args: ARGS });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await sim?.close();
  await db?.drop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Layout {
  /** Words (not ids) whose letters lie on more than one line, with the cell's column header. */
  broken: string[];
  /** Status and decision cells whose text takes more than one line. */
  multiLine: string[];
  /** snake_case identifiers in the visible text. */
  snake: string[];
  pageOverflow: number;
  /** Tables wider than the page (in print, where nothing scrolls). */
  tablesOverflow: string[];
  memberRows: number;
  theadDisplay: string;
  rowBreakInside: string;
}

/** Measured in the page (test/helpers/html-layout.js): where each word of each cell lies. */
const PROBE = readFileSync(new URL('../helpers/html-layout.js', import.meta.url), 'utf8');
const measure = (page: Page) => page.evaluate(PROBE) as Promise<Layout>;

async function open(width: number, print: boolean): Promise<{ page: Page; layout: Layout }> {
  const page = await browser.newPage();
  await page.setViewportSize({ width, height: 900 });
  if (print) await page.emulateMedia({ media: 'print' });
  await page.goto(pathToFileURL(file).href);
  if (SHOTS) await page.screenshot({ path: join(SHOTS, `review-${print ? 'print' : 'screen'}-${width}.png`), fullPage: true });
  return { page, layout: await measure(page) };
}

describe.runIf(HAS_CHROMIUM)('the HTML review export in a real browser', () => {
  for (const width of [1280, 768]) {
    it(`on a ${width} px screen: no word broken, status and decision on one line, no internal names; wide tables scroll in their own box`, async () => {
      const { page, layout } = await open(width, false);
      expect(layout.memberRows).toBeGreaterThan(25);
      expect(layout.broken).toEqual([]);
      expect(layout.multiLine).toEqual([]);
      // Only Cloudflare's own words (audit log action types such as rec_set) may look like identifiers.
      expect(layout.snake.filter((w) => !cloudflareWords.has(w))).toEqual([]);
      expect(layout.pageOverflow).toBeLessThanOrEqual(0);
      expect(await page.locator('#members td.keep', { hasText: 'keep' }).count()).toBe(1);
      await page.close();
    });
  }

  it('printed on A4 (landscape, as its @page says): nothing wider than the page, no word broken, headers repeated, rows never cut', async () => {
    const { page, layout } = await open(A4_LANDSCAPE_CONTENT, true);
    expect(layout.broken).toEqual([]);
    expect(layout.multiLine).toEqual([]);
    expect(layout.tablesOverflow).toEqual([]);
    expect(layout.pageOverflow).toBeLessThanOrEqual(0);
    expect([layout.theadDisplay, layout.rowBreakInside]).toEqual(['table-header-group', 'avoid']);
    const pdf = await page.pdf({ preferCSSPageSize: true });
    // Several pages: the headers and whole rows above are what each of them shows.
    expect(pdf.toString('latin1').match(/\/Type\s*\/Page\b/g)!.length).toBeGreaterThan(2);
    await page.close();
  });
});
