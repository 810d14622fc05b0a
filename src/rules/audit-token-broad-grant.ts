import { sql } from 'drizzle-orm';
import { DEFAULT_SENSITIVE_GROUPS, DEFAULT_WRITE_GROUPS, assessPolicies, assessmentFacts, severityOf } from './policy-model.js';
import { SEVERITIES, type Rule, type Severity } from './types.js';
import { AUDIT_COLUMNS, type AuditRow, auditScope, detectionHit, detectionThresholds, groupBySubjectAndWindow, retirePerEntryKeys } from './detection.js';
import { auditSourcePreference, firstArray, groupNames, notFailed, numberSetting, policiesSensitiveOrBroadWrite, query, stringsSetting } from './sql.js';

interface Row extends AuditRow { policies: unknown; token_name: string | null }

// Where the granted policies are: v2 keeps the request body (and sometimes the response),
// v1 the new value as JSON. The first that is an array wins.
const POLICY_PATHS = ['{resource,request,policies}', '{newValueJson,policies}', '{resource,response,policies}', '{newValue,policies}'];

/**
 * A token create/update: v2 `resource.type` naming a token with action create/update, or a v1
 * action type such as token_create / token_update / create_token (Cloudflare's and the simulator's).
 */
const TOKEN_WRITE = sql`(
  (lower(coalesce(a.resource_type, '')) like '%token%' and lower(coalesce(a.action_type, '')) ~ '(create|update|edit|roll|add|set)')
  or lower(coalesce(a.action_type, '')) ~ '(token.*(create|update|edit))|((create|update|edit).*token)')`;

const worst = (list: Severity[]) => list.reduce((a, b) => (SEVERITIES.indexOf(b) > SEVERITIES.indexOf(a) ? b : a));

export const auditTokenBroadGrant: Rule = {
  id: 'audit-token-broad-grant',
  title: 'API tokens created or edited with a broad or sensitive policy',
  severity: 'high',
  controls: ['SOC2:CC6.3', 'SOC2:CC7.2', 'ISO27001:A.8.2', 'ISO27001:A.8.16', 'PCI:7.2.2', 'PCI:10.4.1'],
  kind: 'detection',
  rationale:
    'The audit log shows the moment a broad token is made, before the next inventory sync and even if the token is deleted ' +
    'again. A new token that can manage tokens, members, settings or billing, or write to every account or zone, is how ' +
    'a compromised session turns into persistent access. Judged by the same policy model as token-broad-policy. ' +
    'One detection per actor (or acting API token) and window, listing the tokens.',
  remediation:
    'Confirm with the actor that the tokens were intended; if not, revoke them at once and review what they did (actor_token_id in the audit log). ' +
    'If intended, narrow them to the accounts, zones and permissions they need. Then acknowledge the detection.',
  requires: ['audit_logs'],
  thresholds: {
    ...detectionThresholds,
    sensitiveGroups: { default: [...DEFAULT_SENSITIVE_GROUPS], description: 'permission groups that are critical wherever they are granted' },
    writeGroups: { default: [...DEFAULT_WRITE_GROUPS], description: 'groups that count as write although their name does not end in Write/Edit' },
  },
  retire: retirePerEntryKeys,
  async evaluate(ctx) {
    const days = numberSetting(ctx, 'lookbackDays');
    const hours = numberSetting(ctx, 'groupHours');
    const model = { sensitiveGroups: stringsSetting(ctx, 'sensitiveGroups'), writeGroups: stringsSetting(ctx, 'writeGroups') };
    const rows = await query<Row>(ctx, sql`
      select * from (
        select distinct on (a.id) ${AUDIT_COLUMNS(hours)}, ${firstArray(POLICY_PATHS)} as policies,
               coalesce(a.raw #>> '{resource,request,name}', a.raw #>> '{newValueJson,name}', a.raw #>> '{metadata,token_name}') as token_name
        from audit_events a
        where ${auditScope(ctx.now, days)} and ${notFailed} and ${TOKEN_WRITE}
        order by a.id, ${auditSourcePreference}
      ) a
      where ${policiesSensitiveOrBroadWrite(sql`a.policies`, model)}
      order by a.event_time, a.id`);
    if (rows.length === 0) return [];
    const names = await groupNames(ctx);
    const judged = rows.flatMap((r) => {
      const a = assessPolicies(r.policies, { ...model, groupNames: names });
      const severity = severityOf(a);
      return severity ? [{ ...r, severity, assessment: assessmentFacts(a) }] : [];
    });
    return [...groupBySubjectAndWindow(judged)].map(([key, entries]) =>
      detectionHit(key, entries, hours, {
        severity: worst(entries.map((e) => e.severity)),
        facts: { sensitive_groups: [...new Set(entries.flatMap((e) => e.assessment.sensitive_groups as string[]))] },
        listName: 'tokens',
        listed: (e) => {
          const { policy_model: _m, ...assessment } = (e as (typeof judged)[number]).assessment;
          return { token_id: e.resource_id, token_name: (e as Row).token_name, ...assessment };
        },
      }));
  },
};
