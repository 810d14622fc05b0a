import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { legacyTiers, type Tier, tierFor, tiersSchema } from './severity-tiers.js';
import { TOKEN_COLUMNS, type TokenRow, at, daysAfter, iso, liveToken, query, tokenHit, type Timestamp } from './sql.js';

interface Row extends TokenRow { expires_on: Timestamp; seconds_left: number }

const DEFAULT_TIERS: Tier[] = [{ days: 30, severity: 'low' }, { days: 7, severity: 'medium' }, { days: 1, severity: 'high' }];

export const tokenExpiring: Rule = {
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
  async evaluate(ctx) {
    const parsed = tiersSchema.safeParse(ctx.thresholds.tiers);
    if (!parsed.success) throw new Error(`threshold tiers must be a list of {days, severity}, got ${JSON.stringify(ctx.thresholds.tiers)}`);
    const tiers = parsed.data;
    const widest = tiers[0]!.days;
    const rows = await query<Row>(ctx, sql`
      select ${TOKEN_COLUMNS}, t.expires_on, extract(epoch from (t.expires_on - ${at(ctx.now)}))::float8 as seconds_left
      from api_tokens t
      where ${liveToken(ctx.now)} and t.expires_on is not null and t.expires_on <= ${daysAfter(ctx.now, Math.ceil(widest))}
      order by t.expires_on, t.id`);
    return rows.flatMap((r) => {
      const daysLeft = r.seconds_left / 86400;
      const tier = tierFor(daysLeft, tiers);
      if (!tier) return [];
      return [tokenHit(r, { expires_on: iso(r.expires_on), days_left: Math.floor(daysLeft), window_days: tier.days }, tier.severity)];
    });
  },
};
