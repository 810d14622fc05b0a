import { sql } from 'drizzle-orm';
import { legacyTiers, type Tier, tiersSchema } from './severity-tiers.js';
import { at, daysAfter, daysUntilFact, isoFact, liveToken, sqlRule, tokenFactsQuery } from './sql.js';

const DEFAULT_TIERS: Tier[] = [{ days: 30, severity: 'low' }, { days: 7, severity: 'medium' }, { days: 1, severity: 'high' }];

export const tokenExpiring = sqlRule({
  id: 'token-expiring',
  title: 'API token expires soon',
  severity: 'low',
  controls: ['SOC2:CC6.1', 'ISO27001:A.5.17', 'PCI:8.6.3'],
  rationale:
    'A token that expires without warning breaks the automation that uses it, and the usual emergency fix is a new ' +
    'token with no expiry and wider rights. Warning ahead of time leaves room to rotate it properly.',
  remediation:
    'Create the replacement token (same permissions, a new expiry), deploy it to the systems that use this one, then ' +
    'delete the old token. Do not just remove the expiry.',
  thresholds: {
    tiers: {
      default: DEFAULT_TIERS.map((t) => ({ ...t })),
      description: 'warning tiers: days before expiry and the severity from then on; the narrowest tier a token falls in sets the severity',
      schema: tiersSchema,
    },
  },
  legacySettings: legacyTiers('token-expiring', { windows: [30, 7, 1], severities: ['low', 'medium', 'high'] }),
  hitsQuery(ctx) {
    const parsed = tiersSchema.safeParse(ctx.thresholds.tiers);
    if (!parsed.success) throw new Error(`threshold tiers must be a list of {days, severity}, got ${JSON.stringify(ctx.thresholds.tiers)}`);
    const tiers = parsed.data;
    const widest = tiers[0]!.days;
    // The narrowest tier the token falls in (the first listed of equal ones) sets the severity.
    const facts = [isoFact('expires_on', sql`t.expires_on`), daysUntilFact(ctx.now, 'days_left', 'expires_on', sql`t.expires_on`), { key: 'window_days', input: sql`tier.days` }];
    return tokenFactsQuery(facts, (columns) => sql`
      select ${columns}
      from (select t.*, extract(epoch from (t.expires_on - ${at(ctx.now)}))::float8 / 86400 as days_left
            from api_tokens t
            where ${liveToken(ctx.now)} and t.expires_on is not null and t.expires_on <= ${daysAfter(ctx.now, Math.ceil(widest))}) t
      cross join lateral (
        select x.days, x.severity
        from rows from (jsonb_to_recordset(${JSON.stringify(tiers)}::jsonb) as (days float8, severity text)) with ordinality x
        where t.days_left <= x.days
        order by x.days, x.ordinality
        limit 1) tier
      order by t.expires_on, t.id`, sql`tier.severity`);
  },
});
