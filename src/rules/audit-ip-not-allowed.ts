import { isIP } from 'node:net';
import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { DETECTION_SUBJECT, auditScope, detectionKey, detectionThresholds, retirePerEntryKeys, windowStart } from './detection.js';
import { bind, iso, numberSetting, query, stringsSetting, type Timestamp } from './sql.js';

interface Row extends Record<string, unknown> {
  subject: string; window_start: Timestamp; actor_email: string | null; actor_token: string | null;
  ips: string[]; entries: number; first: Timestamp; last: Timestamp; actions: string[]; accounts: string[];
}

/** A CIDR (or bare address) Postgres accepts as inet; checked here so a typo is named, not a SQL error. */
export function isCidr(s: string): boolean {
  const [addr, prefix, ...rest] = s.trim().split('/');
  if (rest.length || !addr) return false;
  const family = isIP(addr);
  if (!family) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

export const auditIpNotAllowed: Rule = {
  id: 'audit-ip-not-allowed',
  title: 'Actions from outside the allowed IP ranges',
  severity: 'high',
  controls: ['SOC2:CC6.6', 'SOC2:CC7.2', 'ISO27001:A.5.15', 'ISO27001:A.8.16', 'PCI:10.4.1'],
  kind: 'detection',
  rationale:
    'When an organisation works from known networks (offices, VPN, CI), an action from any other address is either a ' +
    'policy exception or someone else using a member\'s session or a token. Inactive until allowedCidrs is configured. ' +
    'One detection per actor (or acting API token) and window, listing the outside addresses; entries whose IP is missing or unparseable are not judged.',
  remediation:
    'Ask the actor whether the actions were theirs. If not, revoke their sessions and tokens and review the actions listed. ' +
    'If the address is legitimate, add its range to allowedCidrs; restrict tokens with a client IP filter. Then acknowledge the detection.',
  requires: ['audit_logs'],
  thresholds: {
    ...detectionThresholds,
    allowedCidrs: { default: [] as string[], description: 'CIDRs actions may come from (e.g. 192.0.2.0/24, 2001:db8::/32); empty = rule inactive' },
  },
  retire: retirePerEntryKeys,
  async evaluate(ctx) {
    const days = numberSetting(ctx, 'lookbackDays');
    const hours = numberSetting(ctx, 'groupHours');
    const cidrs = stringsSetting(ctx, 'allowedCidrs').map((c) => c.trim()).filter(Boolean);
    if (cidrs.length === 0) return [];
    const bad = cidrs.filter((c) => !isCidr(c));
    if (bad.length) throw new Error(`rules.audit-ip-not-allowed.allowedCidrs: not a CIDR: ${bad.join(', ')}`);
    // The CASE keeps the cast behind the validity check (pg_input_is_valid, PostgreSQL 16+): a bad value is skipped, never an error.
    const rows = await query<Row>(ctx, sql`
      select e.subject, e.window_start, min(e.actor_email) as actor_email, min(coalesce(e.actor_token_name, e.actor_token_id)) as actor_token,
             array_agg(distinct e.actor_ip order by e.actor_ip) as ips,
             count(distinct e.id)::int as entries, min(e.event_time) as first, max(e.event_time) as last,
             (array_agg(distinct coalesce(e.action_type, '?') order by coalesce(e.action_type, '?')))[1:10] as actions,
             coalesce(array_agg(distinct e.account_id) filter (where e.account_id is not null), '{}') as accounts
      from (
        select a.*, ${DETECTION_SUBJECT} as subject, ${windowStart(hours)} as window_start,
               case when pg_input_is_valid(a.actor_ip, 'inet') then a.actor_ip::inet end as ip
        from audit_logs a
        where ${auditScope(ctx.now, days)} and a.actor_ip is not null
      ) e
      where not (e.ip <<= any(${bind(cidrs)}::inet[]))
      group by e.subject, e.window_start
      order by e.subject, e.window_start`);
    return rows.map((r) => {
      const token = r.subject.startsWith('token:');
      return {
        resourceKey: detectionKey(r.subject, r.window_start), resourceType: token ? 'token' : 'actor',
        resourceName: token ? r.actor_token : (r.actor_email ?? r.subject.slice('actor:'.length)),
        accountId: r.accounts.length === 1 ? r.accounts[0]! : null,
        lastEventAt: iso(r.last),
        facts: {
          subject: r.subject, actor_email: r.actor_email, window_start: iso(r.window_start), window_hours: hours,
          ips: r.ips, entries: r.entries, first_event_at: iso(r.first), last_event_at: iso(r.last), actions: r.actions,
          accounts: r.accounts, allowed_cidrs: cidrs,
        },
      };
    });
  },
};
