import { sql } from 'drizzle-orm';
import { daysBefore, daysSinceFact, isoFact, liveToken, num, numberSetting, sqlRule, tokenFactsQuery } from './sql.js';

export const tokenNeverUsed = sqlRule({
  id: 'token-never-used',
  title: 'API token never used since it was created',
  severity: 'low',
  controls: ['SOC2:CC6.2', 'ISO27001:A.5.18', 'PCI:8.2.6'],
  rationale:
    'A token created weeks ago and never used was probably made for a test or a plan that changed; it is a working ' +
    'credential with no purpose, and the first use of a forgotten token is more likely an attacker than its owner.',
  remediation: 'Ask the creator whether it is still needed; delete it if not. Create tokens when the system that uses them is ready.',
  thresholds: { days: { default: 30, description: 'days since issue after which a never-used token is reported' } },
  hitsQuery(ctx) {
    const days = numberSetting(ctx, 'days');
    // issued_on is Cloudflare's; when missing, the first time flarewatch saw the token is a lower bound of its age.
    const facts = [
      { key: 'last_used_on', input: sql`null::text` }, isoFact('issued_on', sql`t.issued_on`),
      isoFact('age_since', sql`coalesce(t.issued_on, t.first_seen_at)`),
      daysSinceFact(ctx.now, 'age_days', 'age_since', sql`coalesce(t.issued_on, t.first_seen_at)`),
      { key: 'age_from', input: sql`case when t.issued_on is null then 'first_seen_at' else 'issued_on' end` },
      { key: 'threshold_days', input: num(days) },
    ];
    return tokenFactsQuery(facts, (columns) => sql`
      select ${columns}
      from api_tokens t
      where ${liveToken(ctx.now)} and t.last_used_on is null and coalesce(t.issued_on, t.first_seen_at) < ${daysBefore(ctx.now, days)}
      order by t.id`);
  },
});
