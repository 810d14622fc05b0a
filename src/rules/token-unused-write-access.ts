import { sql } from 'drizzle-orm';
import { type Coverage, coverageProblem, evidenceAccounts, evidenceEnd } from '../access/evidence.js';
import { type Narrowing, narrowPolicies } from '../access/narrow-policies.js';
import { DEFAULT_WRITE_GROUPS, WRITE_SUFFIX } from './policy-model.js';
import {
  TOKEN_COLUMNS, type Timestamp, type TokenRow, at, bind, daysBefore, groupNames, iso, liveToken, numberSetting, query, stringsSetting, tokenHit,
} from './sql.js';
import type { Rule, RuleContext, RuleHit } from './types.js';

// Which write groups a token was granted and never used, by the account audit log v2 (the
// access_used() function of migration 0020, docs/access-used.md); the narrowed policies it
// suggests are built by the pure ../access/narrow-policies.ts.

interface Row extends TokenRow {
  policies: unknown;
  issued_on: Timestamp;
  used: Array<{ group: string; writes: number; last_used_at: string }>;
  unmapped: { writes: number; actions: string[] } | null;
}

export const NO_READS_CAVEAT =
  'Cloudflare\'s account audit log v2 records writes only (GET requests are not logged): only writes are evidence of use, ' +
  'so read permission groups are kept whatever they are used for, and only write groups are judged.';

/** Live tokens older than the window that hold an allow write group, with what access_used() saw them write. */
function candidates(ctx: RuleContext, days: number, writeGroups: string[]) {
  const writes = bind(writeGroups.map((g) => g.trim().toLowerCase()));
  return query<Row>(ctx, sql`
    with used as materialized (
      select u.principal_id, u.permission_group, u.writes, u.last_used_at, u.actions
      from access_used(${sql.param(days)}::int, ${at(ctx.now)}) u where u.principal_type = 'token'
    )
    select ${TOKEN_COLUMNS}, t.policies, t.issued_on,
      coalesce((select jsonb_agg(jsonb_build_object('group', u.permission_group, 'writes', u.writes, 'last_used_at', u.last_used_at) order by u.permission_group)
                from used u where u.principal_id = t.id and u.permission_group is not null), '[]'::jsonb) as used,
      (select jsonb_build_object('writes', sum(u.writes), 'actions', (select jsonb_agg(distinct x) from used v, unnest(v.actions) x where v.principal_id = t.id and v.permission_group is null))
       from used u where u.principal_id = t.id and u.permission_group is null having count(*) > 0) as unmapped
    from api_tokens t
    where ${liveToken(ctx.now)} and t.issued_on <= ${daysBefore(ctx.now, days)}
      and exists (
        select 1 from jsonb_array_elements(case when jsonb_typeof(t.policies) = 'array' then t.policies else '[]'::jsonb end) p,
          jsonb_array_elements(case when jsonb_typeof(p -> 'permission_groups') = 'array' then p -> 'permission_groups' else '[]'::jsonb end) g
        where jsonb_typeof(g) = 'object' and lower(coalesce(p ->> 'effect', p ->> 'access')) = 'allow'
          and (lower(g ->> 'name') ~ ${WRITE_SUFFIX} or lower(g ->> 'name') = any(${writes}::text[]) or g ->> 'name' is null))
    order by t.id`);
}

async function coverageByAccount(ctx: RuleContext): Promise<{ coverage: Map<string, Coverage>; watched: string[] }> {
  const rows = await query<{ account_id: string; covered_from: Timestamp | null; covered_to: Timestamp | null; gap_days: string[] | null }>(ctx, sql`
    select c.account_id, c.covered_from, c.covered_to, c.gap_days::text[] as gap_days from audit_v2_coverage c`);
  const watched = await query<{ id: string }>(ctx, sql`select id from accounts where deleted_at is null order by id`);
  const coverage = new Map(rows.map((r) => [r.account_id, {
    account_id: r.account_id, covered_from: r.covered_from ? new Date(r.covered_from) : null,
    covered_to: r.covered_to ? new Date(r.covered_to) : null, gap_days: r.gap_days ?? [],
  }]));
  return { coverage, watched: watched.map((w) => w.id) };
}

/** zone id → account id, for the zones the candidates' policies name. */
async function zoneAccounts(ctx: RuleContext, rows: Row[]): Promise<Map<string, string>> {
  const ids = [...new Set(rows.flatMap((r) => JSON.stringify(r.policies).match(/com\.cloudflare\.api\.account\.zone\.[^".]+/g) ?? []))]
    .map((k) => k.slice('com.cloudflare.api.account.zone.'.length)).filter((z) => z !== '*');
  if (!ids.length) return new Map();
  const zones = await query<{ id: string; account_id: string }>(ctx, sql`select id, account_id from zones where id = any(${bind(ids)}::text[])`);
  return new Map(zones.map((z) => [z.id, z.account_id]));
}

const day = (d: Date) => d.toISOString().slice(0, 10);

function withheld(n: Narrowing, unmapped: Row['unmapped']): string | undefined {
  if (unmapped) return `${unmapped.writes} write(s) in the window map to no permission group (${unmapped.actions.join(', ')}): one of the groups above may have authorised them`;
  if (n.incomplete.length) return `the token's policies cannot be rebuilt exactly: ${[...new Set(n.incomplete)].join('; ')}`;
  if (!n.policies.some((p) => p.effect === 'allow')) return 'every group the token holds is an unused write group: nothing would remain (review the token; token-unused covers tokens not used at all)';
  return undefined;
}

function hitOf(r: Row, n: Narrowing, days: number, window: { from: Date; to: Date; accounts: string[] }): RuleHit {
  const why = withheld(n, r.unmapped);
  const span = `${day(window.from)} to ${day(window.to)}`;
  return tokenHit(r, {
    summary: `grants write access to ${n.unusedWrite.join(', ')}, not used in ${days} days (audit log v2, ${span}). ${NO_READS_CAVEAT}`,
    unused_write_groups: n.unusedWrite,
    used_write_groups: r.used.filter((u) => n.usedWrite.some((w) => w.toLowerCase() === u.group.toLowerCase())).map((u) => ({ ...u, last_used_at: iso(u.last_used_at) })),
    ...(n.notJudged.length ? { not_judged_write_groups: n.notJudged } : {}),
    unmapped_writes: r.unmapped ?? { writes: 0, actions: [] },
    window_days: days,
    // Days, not instants: the watermark moves every sync, and facts that change every run rewrite the finding every run.
    evidence: { source: 'account audit log v2', from: day(window.from), to: day(window.to), accounts: window.accounts },
    issued_on: iso(r.issued_on),
    suggestedPolicies: why ? null : n.policies,
    ...(why ? { suggestedPoliciesWithheld: why } : {}),
    caveat: NO_READS_CAVEAT,
  });
}

export const tokenUnusedWriteAccess: Rule = {
  id: 'token-unused-write-access',
  title: 'API token grants write access it has not used',
  severity: 'medium',
  controls: ['SOC2:CC6.3', 'ISO27001:A.5.15', 'ISO27001:A.5.18', 'PCI:7.2.5'],
  requires: ['audit_logs'],
  rationale:
    'Least privilege, measured: a write permission a token has held for months without a single write is access nobody ' +
    'needs, yet it works for whoever gets hold of the secret. The account audit log v2 shows which permission groups each ' +
    'token actually exercised (docs/access-used.md). ' + NO_READS_CAVEAT,
  remediation:
    'Replace the token\'s policies with suggestedPolicies (the same resources; every read group and every used write group kept, ' +
    'the unused write groups dropped), or confirm with the owner why the write access must stay and suppress the finding with that reason.',
  thresholds: {
    days: { default: 90, description: 'days of audit log v2 a write group must go unused in (the archive must cover them all)' },
    writeGroups: { default: [...DEFAULT_WRITE_GROUPS], description: 'groups that count as write although their name does not end in Write/Edit' },
  },
  async evaluate(ctx) {
    const days = numberSetting(ctx, 'days');
    const writeGroups = stringsSetting(ctx, 'writeGroups');
    const rows = await candidates(ctx, days, writeGroups);
    if (rows.length === 0) return [];
    const [names, { coverage, watched }, zones] = [await groupNames(ctx), await coverageByAccount(ctx), await zoneAccounts(ctx, rows)];
    const from = new Date(ctx.now.getTime() - days * 86_400_000);
    return rows.flatMap((r) => {
      const n = narrowPolicies(r.policies, { used: r.used.map((u) => u.group), groupNames: names, writeGroups });
      if (n.unusedWrite.length === 0) return [];
      const accounts = evidenceAccounts(r, zones, watched);
      if (coverageProblem(accounts, coverage, from, ctx.now)) return [];
      return [hitOf(r, n, days, { from, to: evidenceEnd(accounts, coverage, ctx.now), accounts })];
    });
  },
};
