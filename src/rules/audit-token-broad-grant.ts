import { sql } from 'drizzle-orm';
import { DEFAULT_SENSITIVE_GROUPS, DEFAULT_WRITE_GROUPS, assessPolicies, assessmentFacts, severityOf } from './policy-model.js';
import type { Rule } from './types.js';
import {
  AUDIT_COLUMNS, type AuditRow, auditHit, auditSourcePreference, auditWindow, firstArray, groupNames, lookbackThreshold, notFailed,
  numberSetting, policiesSensitiveOrBroadWrite, query, stringsSetting,
} from './sql.js';

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

export const auditTokenBroadGrant: Rule = {
  id: 'audit-token-broad-grant',
  title: 'API token created or edited with a broad or sensitive policy',
  severity: 'high',
  rationale:
    'The audit log shows the moment a broad token is made, before the next inventory sync and even if the token is deleted ' +
    'again. A new token that can manage tokens, members, settings or billing, or write to every account or zone, is how ' +
    'a compromised session turns into persistent access. Judged by the same policy model as token-broad-policy.',
  remediation:
    'Confirm with the actor that the token was intended; if not, revoke it at once and review what it did (actor_token_id in the audit log). ' +
    'If intended, narrow it to the accounts, zones and permissions it needs.',
  requires: ['audit_logs'],
  thresholds: {
    ...lookbackThreshold,
    sensitiveGroups: { default: [...DEFAULT_SENSITIVE_GROUPS], description: 'permission groups that are critical wherever they are granted' },
    writeGroups: { default: [...DEFAULT_WRITE_GROUPS], description: 'groups that count as write although their name does not end in Write/Edit' },
  },
  async evaluate(ctx) {
    const days = numberSetting(ctx, 'lookbackDays');
    const model = { sensitiveGroups: stringsSetting(ctx, 'sensitiveGroups'), writeGroups: stringsSetting(ctx, 'writeGroups') };
    const rows = await query<Row>(ctx, sql`
      select * from (
        select distinct on (a.id) ${AUDIT_COLUMNS}, ${firstArray(POLICY_PATHS)} as policies,
               coalesce(a.raw #>> '{resource,request,name}', a.raw #>> '{newValueJson,name}', a.raw #>> '{metadata,token_name}') as token_name
        from audit_logs a
        where ${auditWindow(ctx.now, days)} and ${notFailed} and ${TOKEN_WRITE}
        order by a.id, ${auditSourcePreference}
      ) a
      where ${policiesSensitiveOrBroadWrite(sql`a.policies`, model)}
      order by a.event_time, a.id`);
    if (rows.length === 0) return [];
    const names = await groupNames(ctx);
    return rows.flatMap((r) => {
      const a = assessPolicies(r.policies, { ...model, groupNames: names });
      const severity = severityOf(a);
      return severity ? [auditHit(r, r.token_name, { token_id: r.resource_id, token_name: r.token_name, ...assessmentFacts(a) }, severity)] : [];
    });
  },
};
