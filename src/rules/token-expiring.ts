import { sql } from 'drizzle-orm';
import { SEVERITIES, type Rule, type Severity } from './types.js';
import { TOKEN_COLUMNS, type TokenRow, at, daysAfter, iso, liveToken, numbersSetting, query, stringsSetting, tokenHit, type Timestamp } from './sql.js';

interface Row extends TokenRow { expires_on: Timestamp; seconds_left: number }

/**
 * The severity of the narrowest window a token falls in. Windows are matched from the
 * smallest up; severities pair with windows sorted from widest to narrowest.
 */
export function expiryWindow(daysLeft: number, windows: number[], severities: string[]): { window: number; severity: Severity } | undefined {
  const sorted = [...windows].sort((a, b) => b - a);
  for (let i = sorted.length - 1; i >= 0; i--) {
    if (daysLeft <= sorted[i]!) {
      const s = severities[i] ?? severities.at(-1) ?? 'medium';
      return { window: sorted[i]!, severity: (SEVERITIES as readonly string[]).includes(s) ? (s as Severity) : 'medium' };
    }
  }
  return undefined;
}

export const tokenExpiring: Rule = {
  id: 'token-expiring',
  title: 'API token expires soon',
  severity: 'low',
  rationale:
    'A token that expires without warning breaks the automation that uses it, and the usual emergency fix is a new ' +
    'token with no expiry and wider rights. Warning ahead of time leaves room to rotate it properly.',
  remediation:
    'Create the replacement token (same permissions, a new expiry), deploy it to the systems that use this one, then ' +
    'delete the old token. Do not just remove the expiry.',
  thresholds: {
    windows: { default: [30, 7, 1], description: 'warning windows in days before expiry; the narrowest window a token falls in sets the severity' },
    severities: { default: ['low', 'medium', 'high'], description: 'severity per window, widest window first' },
  },
  async evaluate(ctx) {
    const windows = numbersSetting(ctx, 'windows');
    const severities = stringsSetting(ctx, 'severities');
    if (windows.length === 0) return [];
    const rows = await query<Row>(ctx, sql`
      select ${TOKEN_COLUMNS}, t.expires_on, extract(epoch from (t.expires_on - ${at(ctx.now)}))::float8 as seconds_left
      from api_tokens t
      where ${liveToken(ctx.now)} and t.expires_on is not null and t.expires_on <= ${daysAfter(ctx.now, Math.max(...windows))}
      order by t.expires_on, t.id`);
    return rows.flatMap((r) => {
      const daysLeft = r.seconds_left / 86400;
      const w = expiryWindow(daysLeft, windows, severities);
      if (!w) return [];
      return [tokenHit(r, { expires_on: iso(r.expires_on), days_left: Math.floor(daysLeft), window_days: w.window }, w.severity)];
    });
  },
};
