import { sql } from 'drizzle-orm';
import type { Rule } from './types.js';
import { auditWindow, bind, iso, lookbackThreshold, numberSetting, query, type Timestamp } from './sql.js';

interface Row extends Record<string, unknown> {
  dimension: 'actor' | 'ip'; subject: string; peak: number; burst_start: Timestamp; burst_end: Timestamp; account_id: string | null;
  total: number; actors: string[]; ips: string[];
}

export const auditFailedLoginBurst: Rule = {
  id: 'audit-failed-login-burst',
  title: 'Burst of failed logins',
  severity: 'high',
  rationale:
    'Many failed sign-ins in a few minutes are password guessing or credential stuffing, against one member (by actor) ' +
    'or from one address against several members (by IP). Counted per log source, so an event archived from both the ' +
    'v1 and v2 logs is not counted twice. An IP is reported when its burst spans several actors; a single actor\'s burst is reported under the actor.',
  remediation:
    'Check whether the member locked themselves out; if not, make sure the member has 2FA, reset the password, and block the ' +
    'source addresses (IP access rules). Repeated bursts against many members call for enforcing 2FA on the account.',
  requires: ['audit_logs'],
  thresholds: {
    ...lookbackThreshold,
    failures: { default: 5, description: 'failed logins within the window that make a burst' },
    windowMinutes: { default: 10, description: 'length of the sliding window, in minutes' },
  },
  async evaluate(ctx) {
    const days = numberSetting(ctx, 'lookbackDays');
    const failures = numberSetting(ctx, 'failures');
    const minutes = numberSetting(ctx, 'windowMinutes');
    const span = sql`make_interval(mins => ${bind(minutes)}::int)`;
    // Sliding RANGE frames: for every failure, how many failures of the same actor (or IP) in the
    // minutes before it; the row with the most is the burst's end. min/max(actor) tell a multi-actor IP burst.
    const rows = await query<Row>(ctx, sql`
      with f as (
        select distinct on (a.source, a.id) a.source, a.id, a.event_time, a.account_id,
               lower(coalesce(a.actor_email, a.actor_id)) as actor, a.actor_ip as ip
        from audit_logs a
        where ${auditWindow(ctx.now, days)} and a.action_result = 'failure'
          and (lower(coalesce(a.action_type, '')) like '%login%' or lower(coalesce(a.resource_type, '')) = 'login')
      ),
      framed as (
        select 'actor' as dimension, actor as subject, event_time, account_id, count(*) over w as n, min(event_time) over w as start, true as multi
        from f where actor is not null
        window w as (partition by source, actor order by event_time range between ${span} preceding and current row)
        union all
        select 'ip', ip, event_time, account_id, count(*) over w, min(event_time) over w, min(actor) over w is distinct from max(actor) over w
        from f where ip is not null
        window w as (partition by source, ip order by event_time range between ${span} preceding and current row)
      ),
      peaks as (
        select distinct on (dimension, subject) dimension, subject, n::int as peak, start as burst_start, event_time as burst_end, account_id
        from framed where multi and n >= ${bind(failures)}::int
        order by dimension, subject, n desc, event_time
      )
      select p.*,
             (select count(distinct f.id)::int from f where (p.dimension = 'actor' and f.actor = p.subject) or (p.dimension = 'ip' and f.ip = p.subject)) as total,
             (select coalesce(array_agg(distinct f.actor) filter (where f.actor is not null), '{}') from f where p.dimension = 'ip' and f.ip = p.subject) as actors,
             (select coalesce(array_agg(distinct f.ip) filter (where f.ip is not null), '{}') from f where p.dimension = 'actor' and f.actor = p.subject) as ips
      from peaks p
      order by p.dimension, p.subject`);
    return rows.map((r) => ({
      resourceKey: `${r.dimension}:${r.subject}`, resourceType: r.dimension, resourceName: r.subject, accountId: r.account_id,
      facts: {
        dimension: r.dimension, failures_in_window: r.peak, burst_start: iso(r.burst_start), burst_end: iso(r.burst_end),
        window_minutes: minutes, threshold: failures, failures_in_lookback: r.total,
        ...(r.dimension === 'actor' ? { ips: r.ips } : { actors: r.actors }), lookback_days: days,
      },
    }));
  },
};
