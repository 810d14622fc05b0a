import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { auditScope, detectionKey, detectionThresholds, retirePerEntryKeys, windowStart } from './detection.js';
import { bind, iso, numberSetting, query, type Timestamp } from './sql.js';

interface Row extends Record<string, unknown> {
  dimension: 'actor' | 'ip'; subject: string; window_start: Timestamp; peak: number; burst_start: Timestamp; burst_end: Timestamp;
  account_id: string | null; total: number; actors: string[]; ips: string[]; last_failure: Timestamp;
}

export const auditFailedLoginBurst: Rule = {
  id: 'audit-failed-login-burst',
  title: 'Burst of failed logins',
  severity: 'high',
  controls: ['SOC2:CC6.1', 'SOC2:CC7.2', 'ISO27001:A.8.5', 'ISO27001:A.8.16', 'PCI:8.3.4', 'PCI:10.4.1'],
  kind: 'detection',
  rationale:
    'Many failed sign-ins in a few minutes are password guessing or credential stuffing, against one member (by actor) ' +
    'or from one address against several members (by IP). Counted per log source, so an event archived from both the ' +
    'v1 and v2 logs is not counted twice. An IP is reported when its burst spans several actors; a single actor\'s burst is reported under the actor. ' +
    'One detection per actor (or IP) and window, at the window\'s biggest burst.',
  remediation:
    'Check whether the member locked themselves out; if not, make sure the member has 2FA, reset the password, and block the ' +
    'source addresses (IP access rules). Repeated bursts against many members call for enforcing 2FA on the account.',
  requires: ['audit_logs'],
  thresholds: {
    ...detectionThresholds,
    failures: { default: 5, description: 'failed logins within the window that make a burst' },
    windowMinutes: { default: 10, description: 'length of the sliding window, in minutes' },
  },
  retire: retirePerEntryKeys,
  async evaluate(ctx) {
    const days = numberSetting(ctx, 'lookbackDays');
    const hours = numberSetting(ctx, 'groupHours');
    const failures = numberSetting(ctx, 'failures');
    const minutes = numberSetting(ctx, 'windowMinutes');
    const span = sql`make_interval(mins => ${bind(minutes)}::int)`;
    // Sliding RANGE frames: for every failure, how many failures of the same actor (or IP) in the
    // minutes before it; the row with the most is the burst's end. min/max(actor) tell a multi-actor IP burst.
    const rows = await query<Row>(ctx, sql`
      with f as (
        select distinct on (a.source, a.id) a.source, a.id, a.event_time, a.account_id, ${windowStart(hours)} as window_start,
               lower(coalesce(a.actor_email, a.actor_id)) as actor, a.actor_ip as ip
        from audit_logs a
        where ${auditScope(ctx.now, days)} and a.action_result = 'failure'
          and (lower(coalesce(a.action_type, '')) like '%login%' or lower(coalesce(a.resource_type, '')) = 'login')
      ),
      framed as (
        select 'actor' as dimension, actor as subject, event_time, window_start, account_id, count(*) over w as n, min(event_time) over w as start, true as multi
        from f where actor is not null
        window w as (partition by source, actor order by event_time range between ${span} preceding and current row)
        union all
        select 'ip', ip, event_time, window_start, account_id, count(*) over w, min(event_time) over w, min(actor) over w is distinct from max(actor) over w
        from f where ip is not null
        window w as (partition by source, ip order by event_time range between ${span} preceding and current row)
      ),
      peaks as (
        select distinct on (dimension, subject, window_start) dimension, subject, window_start,
               n::int as peak, start as burst_start, event_time as burst_end, account_id
        from framed where multi and n >= ${bind(failures)}::int
        order by dimension, subject, window_start, n desc, event_time
      ),
      -- The failures of the subject in the same window, and those of the burst itself (a burst can
      -- begin in the window before): what the detection counts and lists.
      g as (
        select p.dimension, p.subject, f.id, f.event_time, f.actor, f.ip, p.window_start from peaks p join f
          on ((p.dimension = 'actor' and f.actor = p.subject) or (p.dimension = 'ip' and f.ip = p.subject))
         and (f.window_start = p.window_start or f.event_time between p.burst_start and p.burst_end)
      )
      select p.*,
             (select count(distinct g.id)::int from g where (g.dimension, g.subject, g.window_start) = (p.dimension, p.subject, p.window_start)) as total,
             (select max(g.event_time) from g where (g.dimension, g.subject, g.window_start) = (p.dimension, p.subject, p.window_start)) as last_failure,
             (select coalesce(array_agg(distinct g.actor) filter (where g.actor is not null), '{}') from g
               where p.dimension = 'ip' and (g.dimension, g.subject, g.window_start) = (p.dimension, p.subject, p.window_start)) as actors,
             (select coalesce(array_agg(distinct g.ip) filter (where g.ip is not null), '{}') from g
               where p.dimension = 'actor' and (g.dimension, g.subject, g.window_start) = (p.dimension, p.subject, p.window_start)) as ips
      from peaks p
      order by p.dimension, p.subject, p.window_start`);
    return rows.map((r) => ({
      resourceKey: detectionKey(`${r.dimension}:${r.subject}`, r.window_start), resourceType: r.dimension, resourceName: r.subject, accountId: r.account_id,
      lastEventAt: iso(r.last_failure),
      facts: {
        dimension: r.dimension, subject: `${r.dimension}:${r.subject}`, window_start: iso(r.window_start), window_hours: hours,
        failures_in_window: r.peak, burst_start: iso(r.burst_start), burst_end: iso(r.burst_end),
        burst_minutes: minutes, threshold: failures, failures: r.total,
        ...(r.dimension === 'actor' ? { ips: r.ips } : { actors: r.actors }),
      },
    }));
  },
};
