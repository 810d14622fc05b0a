import { sql } from 'drizzle-orm';
import { DEFAULT_SENSITIVE_GROUPS, DEFAULT_WRITE_GROUPS, assessPolicies, assessmentFacts, severityOf } from './policy-model.js';
import type { Rule } from './types.js';
import { TOKEN_COLUMNS, type TokenRow, groupNames, liveToken, policiesSensitiveOrBroadWrite, query, stringsSetting, tokenHit } from './sql.js';

interface Row extends TokenRow { policies: unknown }

export const tokenBroadPolicy: Rule = {
  id: 'token-broad-policy',
  title: 'API token with a broad or sensitive policy',
  severity: 'high',
  controls: ['SOC2:CC6.1', 'SOC2:CC6.3', 'ISO27001:A.5.15', 'ISO27001:A.5.18', 'ISO27001:A.8.2', 'PCI:7.2.2', 'PCI:7.2.5'],
  rationale:
    'A token that can write to every account or every zone turns one leaked secret into an organisation-wide incident; ' +
    'a token that can manage tokens, memberships, account settings or billing lets its holder mint new credentials, ' +
    'add themselves as a member or switch off account protections, so a leak cannot be contained by revoking it. ' +
    'Model: sensitive group anywhere = critical; Write/Edit (or Cache Purge) on all accounts or all zones = high; deny policies are not subtracted.',
  remediation:
    'Split the token by job: scope each policy to the specific accounts and zones it needs, grant Read instead of Write ' +
    'where possible, and keep token, membership, settings and billing management out of automation tokens (use the ' +
    'dashboard with 2FA for those). Add an IP restriction and an expiry to whatever remains broad.',
  thresholds: {
    sensitiveGroups: { default: [...DEFAULT_SENSITIVE_GROUPS], description: 'permission groups that are critical wherever they are granted' },
    writeGroups: { default: [...DEFAULT_WRITE_GROUPS], description: 'groups that count as write although their name does not end in Write/Edit' },
  },
  async evaluate(ctx) {
    const model = { sensitiveGroups: stringsSetting(ctx, 'sensitiveGroups'), writeGroups: stringsSetting(ctx, 'writeGroups') };
    // The database picks the candidates; the pure model explains each one (and has the last word).
    const rows = await query<Row>(ctx, sql`
      select ${TOKEN_COLUMNS}, t.policies
      from api_tokens t
      where ${liveToken(ctx.now)} and ${policiesSensitiveOrBroadWrite(sql`t.policies`, model)}
      order by t.id`);
    if (rows.length === 0) return [];
    const names = await groupNames(ctx);
    return rows.flatMap((r) => {
      const a = assessPolicies(r.policies, { ...model, groupNames: names });
      const severity = severityOf(a);
      return severity ? [tokenHit(r, assessmentFacts(a), severity)] : [];
    });
  },
};
