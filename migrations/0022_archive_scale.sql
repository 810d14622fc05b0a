-- Custom migration (issue 22, the archive at scale). First: the access model narrowed to one account, so `access who-can
-- --account/--zone` reads that account's members, groups and tokens instead of working out the
-- whole organisation's access and filtering it. The model's body moves (0017's, unchanged but for the
-- account filters and the pictures below) into a three-argument function; the two-argument one that effective_access,
-- effective_member_access and effective_access_at call delegates to it with no account, so there
-- stays one definition. Every row of an account depends only on that account's inputs (denies,
-- the owner's access and the picture are per account; a user token's account-wide grants are
-- placed through its owner's memberships, and the owner's memberships in that account are kept),
-- which the access-scoped test checks row for row against the unscoped model.
-- The access pictures are also worked out once per call: joined as the view, the planner read
-- access_pictures again for every grant (it estimates the grants of the function's CTEs at one
-- row): 1,720 member grants over 20 accounts took 2.2 s, 0.2 s this way; effective_access over 50k
-- tokens 7.4 s, 5.6 s. Same rows (access-model-pictures compares every row with 0017's).

-- Whether a token can hold access in `scope_account`: every user token (its grants are placed
-- through its owner's memberships), an account token of that account, or an account token of
-- another account that names it or one of its zones in a policy (the model places a grant by the
-- resource it names).
CREATE FUNCTION flarewatch_token_may_reach(owner_type text, account_id text, policies jsonb, scope_account text) RETURNS boolean
LANGUAGE sql STABLE AS $$
  SELECT scope_account IS NULL OR owner_type IS DISTINCT FROM 'account' OR account_id = scope_account
    OR strpos(policies::text, scope_account) > 0
    OR (strpos(policies::text, 'com.cloudflare.api.account.zone.') > 0
        AND EXISTS (SELECT 1 FROM zones z WHERE z.account_id = scope_account AND strpos(policies::text, z.id) > 0))
$$;
--> statement-breakpoint
CREATE FUNCTION flarewatch_access_model(instant timestamptz, with_tokens boolean, scope_account text)
RETURNS TABLE (principal_type text, principal_id text, principal text, user_id text, account_id text, account_name text,
  access text, permission_group_id text, permission_group_name text, resource_key text, resource_kind text,
  zone_id text, zone_name text, path text, policy_id text, group_id text, group_name text, organization_id text,
  effective boolean, not_effective_reason text, picture_complete boolean, picture_missing text[])
LANGUAGE sql STABLE AS $$
WITH
-- One row per account (and one for what is no account's), computed once (see above).
pictures AS MATERIALIZED (SELECT * FROM access_pictures WHERE scope_account IS NULL OR account_id = scope_account),
members AS (
  SELECT m.id AS member_id, m.account_id, m.user_id, m.email, m.status, m.role_ids, m.role_names, m.policies
  FROM account_members m WHERE instant IS NULL AND m.deleted_at IS NULL AND (scope_account IS NULL OR m.account_id = scope_account)
  UNION ALL
  SELECT v.member_id, v.account_id, v.user_id, v.email, v.status, v.role_ids, v.role_names, v.policies
  FROM account_member_versions v WHERE instant IS NOT NULL AND v.valid_from <= instant AND (v.valid_to IS NULL OR v.valid_to > instant)
    AND (scope_account IS NULL OR v.account_id = scope_account)
),
groups AS (
  SELECT g.id AS group_id, g.account_id, g.name, g.policies FROM user_groups g WHERE instant IS NULL AND g.deleted_at IS NULL AND (scope_account IS NULL OR g.account_id = scope_account)
  UNION ALL
  SELECT v.group_id, v.account_id, v.name, v.policies FROM user_group_versions v
  WHERE instant IS NOT NULL AND v.valid_from <= instant AND (v.valid_to IS NULL OR v.valid_to > instant) AND (scope_account IS NULL OR v.account_id = scope_account)
),
group_members AS (
  SELECT gm.group_id, gm.member_id, gm.account_id, gm.email, gm.status FROM user_group_members gm WHERE instant IS NULL AND gm.deleted_at IS NULL
  UNION ALL
  SELECT v.group_id, v.member_id, v.account_id, v.email, v.status FROM user_group_member_versions v
  WHERE instant IS NOT NULL AND v.valid_from <= instant AND (v.valid_to IS NULL OR v.valid_to > instant)
),
org_members AS (
  SELECT o.organization_id, o.member_id, o.user_id, o.email, o.status FROM organization_members o WHERE instant IS NULL AND o.deleted_at IS NULL
  UNION ALL
  SELECT v.organization_id, v.member_id, v.user_id, v.email, v.status FROM organization_member_versions v
  WHERE instant IS NOT NULL AND v.valid_from <= instant AND (v.valid_to IS NULL OR v.valid_to > instant)
),
org_accounts AS (
  SELECT o.organization_id, o.account_id FROM organization_accounts o WHERE instant IS NULL AND o.deleted_at IS NULL AND (scope_account IS NULL OR o.account_id = scope_account)
  UNION ALL
  SELECT v.organization_id, v.account_id FROM organization_account_versions v
  WHERE instant IS NOT NULL AND v.valid_from <= instant AND (v.valid_to IS NULL OR v.valid_to > instant) AND (scope_account IS NULL OR v.account_id = scope_account)
),
tokens AS (
  SELECT t.id AS token_id, t.owner_type, t.account_id, t.user_id, t.name, t.status, t.expires_on, t.policies
  FROM api_tokens t WHERE with_tokens AND instant IS NULL AND t.deleted_at IS NULL AND flarewatch_token_may_reach(t.owner_type, t.account_id, t.policies, scope_account)
  UNION ALL
  SELECT v.token_id, v.owner_type, v.account_id, v.user_id, v.name, v.status, v.expires_on, v.policies
  FROM api_token_versions v WHERE with_tokens AND instant IS NOT NULL AND v.valid_from <= instant AND (v.valid_to IS NULL OR v.valid_to > instant)
    AND flarewatch_token_may_reach(v.owner_type, v.account_id, v.policies, scope_account)
),
-- Every member path (rules 1, 4, 7): roles, own policies, groups' policies, organizations.
member_grants AS (
  SELECT m.member_id AS principal_id, m.email AS principal, m.user_id, m.account_id,
    CASE WHEN m.status = 'pending' THEN 'invitation pending' END AS inactive,
    'allow'::text AS access, r.role_id AS permission_group_id, coalesce(r.role_name, r.role_id) AS permission_group_name,
    'com.cloudflare.api.account.' || m.account_id AS resource_key, 'account'::text AS resource_kind, NULL::text AS zone_id,
    'role'::text AS path, NULL::text AS policy_id, NULL::text AS group_id, NULL::text AS group_name, NULL::text AS organization_id
  FROM members m
  CROSS JOIN LATERAL unnest(coalesce(m.role_names, '{}'::text[]), coalesce(m.role_ids, '{}'::text[])) AS r(role_name, role_id)
  WHERE coalesce(r.role_name, r.role_id) IS NOT NULL
  UNION ALL
  SELECT m.member_id, m.email, m.user_id, m.account_id, CASE WHEN m.status = 'pending' THEN 'invitation pending' END,
    p.access, p.permission_group_id, p.permission_group_name, p.resource_key, p.resource_kind, p.zone_id,
    'policy', p.policy_id, NULL, NULL, NULL
  FROM members m CROSS JOIN LATERAL flarewatch_access_policy_grants(m.policies, m.account_id, instant) p
  UNION ALL
  -- A group lists members by account member id; one the member listing lacks still holds the group's access.
  SELECT gm.member_id, coalesce(m.email, gm.email), m.user_id, g.account_id,
    CASE WHEN coalesce(m.status, gm.status) = 'pending' THEN 'invitation pending' END,
    p.access, p.permission_group_id, p.permission_group_name, p.resource_key, p.resource_kind, p.zone_id,
    'group', p.policy_id, g.group_id, g.name, NULL
  FROM group_members gm
  JOIN groups g ON g.group_id = gm.group_id
  LEFT JOIN members m ON m.member_id = gm.member_id AND m.account_id = g.account_id
  CROSS JOIN LATERAL flarewatch_access_policy_grants(g.policies, g.account_id, instant) p
  UNION ALL
  SELECT coalesce(am.member_id, 'organization-member:' || om.organization_id || ':' || om.member_id), coalesce(am.email, om.email),
    om.user_id, oa.account_id,
    CASE WHEN om.status = 'pending' THEN 'invitation pending'
         WHEN coalesce(om.status, 'active') <> 'active' THEN 'organization membership ' || om.status END,
    'allow', NULL, 'Super Administrator - All Privileges', 'com.cloudflare.api.account.' || oa.account_id, 'account', NULL,
    'organization', NULL, NULL, NULL, om.organization_id
  FROM org_members om
  JOIN org_accounts oa ON oa.organization_id = om.organization_id
  LEFT JOIN LATERAL (
    SELECT m.member_id, m.email FROM members m
    WHERE m.account_id = oa.account_id AND ((om.user_id IS NOT NULL AND m.user_id = om.user_id) OR lower(m.email) = lower(om.email))
    ORDER BY m.user_id IS NOT DISTINCT FROM om.user_id DESC, m.member_id LIMIT 1
  ) am ON true
),
-- The accounts a user reaches (through any member path), for user tokens naming every account or zone.
owner_accounts AS (
  SELECT DISTINCT mg.user_id, mg.account_id FROM member_grants mg WHERE mg.user_id IS NOT NULL AND mg.inactive IS NULL
  UNION
  SELECT 'credential:' || x.credential, x.account_id FROM account_access x WHERE x.deleted_at IS NULL
),
token_base AS (
  SELECT t.token_id, t.owner_type, t.account_id AS token_account, t.user_id, t.name, t.status, t.expires_on,
    g.policy_id, g.effect, g.permission_group_id, g.permission_group_name, g.resource_key, k.kind,
    CASE WHEN k.kind = 'zone' THEN substr(g.resource_key, 33) END AS zone_id,
    CASE WHEN flarewatch_resource_kind(g.resource_parent) = 'account' THEN substr(g.resource_parent, 28) END AS parent_account
  FROM tokens t
  CROSS JOIN LATERAL flarewatch_policy_grants(t.policies) g
  CROSS JOIN LATERAL (SELECT flarewatch_resource_kind(g.resource_key) AS kind) k
),
token_placed AS (
  SELECT b.*, CASE
      WHEN b.kind = 'account' THEN substr(b.resource_key, 28)
      WHEN b.kind = 'zone' THEN coalesce(z.account_id, b.parent_account, b.token_account)
      WHEN b.kind = 'user' THEN NULL
      ELSE coalesce(b.parent_account, CASE WHEN b.owner_type = 'account' THEN b.token_account END)
    END AS fixed_account,
    b.owner_type = 'user' AND b.parent_account IS NULL AND b.kind IN ('all_accounts', 'all_zones', 'other') AS expand
  FROM token_base b LEFT JOIN zones z ON z.id = b.zone_id
),
token_grants AS (
  SELECT p.*, p.fixed_account AS grant_account FROM token_placed p WHERE NOT p.expand
  UNION ALL
  SELECT p.*, oa.account_id FROM token_placed p JOIN owner_accounts oa ON oa.user_id = p.user_id WHERE p.expand
  UNION ALL
  SELECT p.*, p.token_account FROM token_placed p
  WHERE p.expand AND NOT EXISTS (SELECT 1 FROM owner_accounts oa WHERE oa.user_id = p.user_id)
),
grants AS (
  SELECT 'member'::text AS principal_type, mg.principal_id, mg.principal, mg.user_id, mg.account_id, mg.access,
    mg.permission_group_id, mg.permission_group_name, mg.resource_key, mg.resource_kind, mg.zone_id, mg.path, mg.policy_id,
    mg.group_id, mg.group_name, mg.organization_id, NULL::text AS owner_type,
    mg.inactive
  FROM member_grants mg
  UNION ALL
  SELECT 'token', tg.token_id, tg.name, tg.user_id, tg.grant_account, lower(tg.effect), tg.permission_group_id, tg.permission_group_name,
    tg.resource_key, CASE WHEN tg.kind = 'all_accounts' THEN 'account' ELSE tg.kind END, tg.zone_id, 'token', tg.policy_id,
    NULL, NULL, NULL, tg.owner_type,
    CASE WHEN tg.status IS DISTINCT FROM 'active' THEN 'token ' || coalesce(tg.status, 'status unknown')
         WHEN tg.expires_on <= coalesce(instant, now()) THEN 'token expired' END
  FROM token_grants tg
),
-- Denies per principal and account (rule 2): few per principal, joined by hash.
denies AS (
  SELECT g.principal_type, g.principal_id, coalesce(g.account_id, '') AS acct,
    jsonb_agg(jsonb_build_object('id', g.permission_group_id, 'name', lower(g.permission_group_name), 'kind', g.resource_kind,
      'key', coalesce(g.zone_id, g.resource_key),
      'why', CASE g.path WHEN 'group' THEN 'denied by group ' || coalesce(g.group_name, g.group_id) || ' policy ' || coalesce(g.policy_id, '?')
                         WHEN 'policy' THEN 'denied by member policy ' || coalesce(g.policy_id, '?')
                         ELSE 'denied by token policy ' || coalesce(g.policy_id, '?') END)
      ORDER BY g.path, g.policy_id) AS list
  FROM grants g WHERE g.access = 'deny'
  GROUP BY 1, 2, 3
),
judged AS (
  SELECT g.*,
    (SELECT d.value ->> 'why' FROM jsonb_array_elements(d.list) d
     WHERE g.access = 'allow' AND g.path <> 'organization'
       AND ((d.value ->> 'id') = g.permission_group_id OR (d.value ->> 'name') = lower(g.permission_group_name))
       AND flarewatch_resource_covers(d.value ->> 'kind', d.value ->> 'key', g.resource_kind, coalesce(g.zone_id, g.resource_key))
     LIMIT 1) AS denied_by
  FROM grants g
  LEFT JOIN denies d ON d.principal_type = g.principal_type AND d.principal_id = g.principal_id AND d.acct = coalesce(g.account_id, '')
),
-- What each user holds effectively as a member, per account (rule 8 bounds their tokens by it).
owner_access AS (
  SELECT j.user_id, j.account_id,
    jsonb_agg(jsonb_build_object('name', lower(j.permission_group_name), 'kind', j.resource_kind, 'key', coalesce(j.zone_id, j.resource_key))) AS list
  FROM judged j
  WHERE j.principal_type = 'member' AND j.access = 'allow' AND j.denied_by IS NULL AND j.inactive IS NULL AND j.user_id IS NOT NULL
  GROUP BY 1, 2
),
bounded AS (
  SELECT j.*, CASE
    WHEN j.principal_type <> 'token' OR j.owner_type <> 'user' OR j.access <> 'allow' THEN NULL
    WHEN j.user_id IS NULL OR j.user_id LIKE 'credential:%' THEN NULL
    WHEN oa.list IS NULL THEN 'beyond owner''s access: the owner holds nothing in this account'
    WHEN NOT EXISTS (SELECT 1 FROM access_capabilities c WHERE lower(c.permission_group_name) = lower(j.permission_group_name)) THEN NULL
    WHEN NOT EXISTS (
      SELECT 1 FROM access_capabilities c
      WHERE lower(c.permission_group_name) = lower(j.permission_group_name)
        AND NOT EXISTS (
          SELECT 1 FROM jsonb_array_elements(oa.list) o
          JOIN access_capabilities c2 ON c2.capability = c.capability AND lower(c2.permission_group_name) = o.value ->> 'name'
          WHERE flarewatch_resource_covers(o.value ->> 'kind', o.value ->> 'key', j.resource_kind, coalesce(j.zone_id, j.resource_key))))
      THEN NULL
    ELSE 'beyond owner''s access: the owner does not hold ' || j.permission_group_name || ' here'
  END AS beyond
  FROM judged j
  LEFT JOIN owner_access oa ON j.principal_type = 'token' AND j.owner_type = 'user' AND oa.user_id = j.user_id AND oa.account_id = j.account_id
)
SELECT b.principal_type, b.principal_id, b.principal, b.user_id, b.account_id, a.name, b.access,
  b.permission_group_id, b.permission_group_name, b.resource_key, b.resource_kind, b.zone_id, z.name, b.path,
  b.policy_id, b.group_id, b.group_name, b.organization_id,
  b.access = 'allow' AND b.inactive IS NULL AND b.denied_by IS NULL AND b.beyond IS NULL,
  CASE WHEN b.access <> 'allow' THEN 'deny policy: removes ' || coalesce(b.permission_group_name, b.permission_group_id, '?') || ' here from every path'
       ELSE coalesce(b.inactive, b.denied_by, b.beyond) END,
  coalesce(pic.complete, false) AND NOT (b.principal_type = 'token' AND b.owner_type = 'user' AND b.user_id LIKE 'credential:%'),
  coalesce(pic.missing, ARRAY['account not synced'])
    || CASE WHEN b.principal_type = 'token' AND b.owner_type = 'user' AND b.user_id LIKE 'credential:%' THEN ARRAY['token owner unknown'] ELSE '{}'::text[] END
FROM bounded b
LEFT JOIN accounts a ON a.id = b.account_id
LEFT JOIN zones z ON z.id = b.zone_id
LEFT JOIN pictures pic ON coalesce(pic.account_id, '') = coalesce(b.account_id, '')
WHERE scope_account IS NULL OR b.account_id = scope_account
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION flarewatch_access_model(instant timestamptz, with_tokens boolean)
RETURNS TABLE (principal_type text, principal_id text, principal text, user_id text, account_id text, account_name text,
  access text, permission_group_id text, permission_group_name text, resource_key text, resource_kind text,
  zone_id text, zone_name text, path text, policy_id text, group_id text, group_name text, organization_id text,
  effective boolean, not_effective_reason text, picture_complete boolean, picture_missing text[])
LANGUAGE sql STABLE AS $$ SELECT * FROM flarewatch_access_model(instant, with_tokens, NULL::text) $$;
--> statement-breakpoint
-- `history member` finds a member's events by id (audit_logs_resource_idx) or, for the events that
-- carry no member id (an invitation, a change named by email), by the email the event names in its
-- account. That second branch read every member event of the archive and filtered it (its time grew
-- with the archive); this partial index answers it directly, and holds only the entries that name an
-- email (member events), so it costs little space. The expression is history.ts's SUBJECT_EMAIL,
-- lower-cased as the query compares it. On an existing archive it is built in this migration's
-- transaction: one read of the archive, during which writes to audit_logs wait.
CREATE INDEX "audit_logs_subject_email_idx" ON "audit_logs" ("account_id",
  lower(coalesce("raw" #>> '{resource,request,email}', "raw" #>> '{newValueJson,email}', "raw" #>> '{metadata,email}')))
  WHERE lower(coalesce("raw" #>> '{resource,request,email}', "raw" #>> '{newValueJson,email}', "raw" #>> '{metadata,email}')) IS NOT NULL;
--> statement-breakpoint
-- pending_invitations looked each pending member's invitation up among every member event of the
-- archive (read once and hash-joined: its time grew with the archive, 6 s at 1M entries, and
-- `review start` reads it). Now each pending member's events are two index lookups, by id and by
-- email (the index above). Same columns, same rows (the rules-members test pins them), the same
-- pick where events tie.
CREATE OR REPLACE VIEW "pending_invitations" AS
WITH pending AS (
  SELECT m.id, m.account_id, m.email, m.role_names, seen.at
  FROM account_members m
  CROSS JOIN LATERAL (
    SELECT coalesce((
      SELECT min(v.valid_from) FROM account_member_versions v
      WHERE v.member_id = m.id AND v.status = 'pending'
        AND v.valid_from >= coalesce((SELECT max(x.valid_to) FROM account_member_versions x
                                      WHERE x.member_id = m.id AND x.status IS DISTINCT FROM 'pending'), '-infinity')
    ), m.first_seen_at) AS at
  ) seen
  WHERE m.deleted_at IS NULL AND m.status = 'pending'
),
member_types AS (
  SELECT ARRAY(SELECT t FROM flarewatch_audit_resource_types() t WHERE t ILIKE '%member%') AS types
),
-- Each pending member's invitation events, looked up twice through indexes: by member id
-- (audit_logs_resource_idx) and by the email the event names in the account (audit_logs_subject_email_idx).
matched AS (
  SELECT p.account_id, p.id AS member_id, p.at, e.source, e.id AS event_id, e.event_time, e.actor_email
  FROM pending p CROSS JOIN member_types mt
  CROSS JOIN LATERAL (
    SELECT e.source, e.id, e.event_time, e.actor_email FROM audit_events e
    WHERE e.resource_type = ANY (mt.types) AND e.resource_id = p.id
      AND lower(coalesce(e.action_type, '')) ~ '(create|add|invite)' AND coalesce(e.action_result, 'success') <> 'failure'
  ) e
  UNION ALL
  SELECT p.account_id, p.id, p.at, e.source, e.id, e.event_time, e.actor_email
  FROM pending p CROSS JOIN member_types mt
  CROSS JOIN LATERAL (
    SELECT e.source, e.id, e.event_time, e.actor_email FROM audit_events e
    WHERE e.resource_type = ANY (mt.types) AND e.account_id = p.account_id
      AND lower(coalesce(e.raw #>> '{resource,request,email}', e.raw #>> '{newValueJson,email}', e.raw #>> '{metadata,email}')) = lower(p.email)
      AND lower(coalesce(e.action_type, '')) ~ '(create|add|invite)' AND coalesce(e.action_result, 'success') <> 'failure'
  ) e
),
latest AS (
  SELECT DISTINCT ON (x.account_id, x.member_id) x.account_id, x.member_id, x.source, x.event_id, x.event_time, x.actor_email
  FROM matched x
  WHERE x.event_time <= x.at + interval '5 minutes'
  ORDER BY x.account_id, x.member_id, x.event_time DESC, x.source, x.event_id
)
SELECT
  'invite:' || i.id AS key, 'invite'::text AS type, i.id, i.organization_id AS account_id, i.organization_name AS name,
  i.invited_member_email AS email, i.invited_by, i.roles, i.expires_on, i.first_seen_at,
  coalesce(i.invited_on, i.first_seen_at) AS since,
  CASE WHEN i.invited_on IS NULL THEN 'first_seen_at' ELSE 'invited_on' END AS since_source,
  NULL::text AS invite_event
FROM user_invites i
WHERE i.deleted_at IS NULL AND i.status = 'pending'
UNION ALL
SELECT
  'member:' || p.account_id || ':' || p.id, 'member', p.id, p.account_id, p.email,
  p.email, ev.actor_email, p.role_names, NULL::timestamptz, p.at,
  coalesce(ev.event_time, p.at),
  CASE WHEN ev.event_time IS NULL THEN 'first_seen_at' ELSE 'audit_log' END,
  ev.source || ':' || ev.event_id
FROM pending p
LEFT JOIN latest ev ON ev.account_id = p.account_id AND ev.member_id = p.id;
