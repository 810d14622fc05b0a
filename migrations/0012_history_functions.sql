-- Custom migration (issue 11): what drizzle-kit cannot express for the history and review tables of
-- 0011 (one open version per object, append-only reviews), the first version of every existing row,
-- the point-in-time functions, the audit log with one row per real event, and invitation ages.

-- At most one open (current) version per object. Deferred to commit: the sync closes the old
-- version and opens the new one in a single statement, in whatever order the executor runs them.
ALTER TABLE "api_token_versions" ADD CONSTRAINT "api_token_versions_one_open"
  EXCLUDE USING btree ("token_id" WITH =) WHERE ("valid_to" IS NULL) DEFERRABLE INITIALLY DEFERRED;
--> statement-breakpoint
ALTER TABLE "account_member_versions" ADD CONSTRAINT "account_member_versions_one_open"
  EXCLUDE USING btree ("member_id" WITH =) WHERE ("valid_to" IS NULL) DEFERRABLE INITIALLY DEFERRED;
--> statement-breakpoint
ALTER TABLE "account_versions" ADD CONSTRAINT "account_versions_one_open"
  EXCLUDE USING btree ("account_id" WITH =) WHERE ("valid_to" IS NULL) DEFERRABLE INITIALLY DEFERRED;
--> statement-breakpoint
ALTER TABLE "user_invite_versions" ADD CONSTRAINT "user_invite_versions_one_open"
  EXCLUDE USING btree ("invite_id" WITH =) WHERE ("valid_to" IS NULL) DEFERRABLE INITIALLY DEFERRED;
--> statement-breakpoint
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['api_token_versions', 'account_member_versions', 'account_versions', 'user_invite_versions'] LOOP
    EXECUTE format('ALTER TABLE %I ADD CONSTRAINT %I CHECK (valid_to IS NULL OR valid_to >= valid_from)', t, t || '_period');
    EXECUTE format($c$ALTER TABLE %I ADD CONSTRAINT %I CHECK (change IN ('baseline', 'created', 'changed', 'restored'))$c$, t, t || '_change');
    EXECUTE format($c$ALTER TABLE %I ADD CONSTRAINT %I CHECK ((valid_to IS NULL) = (ended_by IS NULL) AND ended_by IN ('change', 'deletion'))$c$, t, t || '_ended');
  END LOOP;
END
$$;
--> statement-breakpoint

-- History starts now: every existing row gets one version from its first_seen_at (closed at its
-- deleted_at when it is deleted). What changed before this migration is unknown: change = 'baseline'.
-- A token known only from its credential's verify answer has no policies to speak of: no history
-- until a listing returns it.
INSERT INTO "api_token_versions" (valid_from, valid_to, change, changed_fields, ended_by, end_reason,
  token_id, owner_type, account_id, user_id, name, status, expires_on, not_before, policies, ip_allow, ip_deny)
SELECT first_seen_at, CASE WHEN deleted_at IS NOT NULL THEN greatest(deleted_at, first_seen_at) END, 'baseline', '{}',
  CASE WHEN deleted_at IS NOT NULL THEN 'deletion' END, deleted_reason,
  id, owner_type, account_id, user_id, name, status, expires_on, not_before, policies, ip_allow, ip_deny
FROM api_tokens WHERE raw ->> 'flarewatch_source' IS DISTINCT FROM 'tokens/verify';
--> statement-breakpoint
INSERT INTO "account_member_versions" (valid_from, valid_to, change, changed_fields, ended_by, end_reason,
  member_id, account_id, user_id, email, status, two_factor_enabled, role_ids, role_names, policies)
SELECT first_seen_at, CASE WHEN deleted_at IS NOT NULL THEN greatest(deleted_at, first_seen_at) END, 'baseline', '{}',
  CASE WHEN deleted_at IS NOT NULL THEN 'deletion' END, deleted_reason,
  id, account_id, user_id, email, status, two_factor_enabled, role_ids, role_names, policies
FROM account_members;
--> statement-breakpoint
INSERT INTO "account_versions" (valid_from, valid_to, change, changed_fields, ended_by, end_reason,
  account_id, name, type, enforce_twofactor)
SELECT first_seen_at, CASE WHEN deleted_at IS NOT NULL THEN greatest(deleted_at, first_seen_at) END, 'baseline', '{}',
  CASE WHEN deleted_at IS NOT NULL THEN 'deletion' END, deleted_reason,
  id, name, type, enforce_twofactor
FROM accounts;
--> statement-breakpoint
INSERT INTO "user_invite_versions" (valid_from, valid_to, change, changed_fields, ended_by, end_reason,
  invite_id, user_id, organization_id, organization_name, organization_enforces_twofactor, invited_member_email,
  invited_by, invited_on, expires_on, status, roles)
SELECT first_seen_at, CASE WHEN deleted_at IS NOT NULL THEN greatest(deleted_at, first_seen_at) END, 'baseline', '{}',
  CASE WHEN deleted_at IS NOT NULL THEN 'deletion' END, deleted_reason,
  id, user_id, organization_id, organization_name, organization_enforces_twofactor, invited_member_email,
  invited_by, invited_on, expires_on, status, roles
FROM user_invites;
--> statement-breakpoint

-- One row per policy x permission group x resource of a token's policies: exactly how token_grants
-- (0004) flattens them, for any version of them.
CREATE FUNCTION flarewatch_policy_grants(policies jsonb)
RETURNS TABLE (policy_index bigint, policy_id text, effect text, permission_group_id text, permission_group_name text,
  resource_parent text, resource_key text, resource_value text, resource_scope text, resource_wildcard boolean)
LANGUAGE sql STABLE AS $$
SELECT
  p.ordinality,
  p.value ->> 'id',
  p.value ->> 'effect',
  g.value ->> 'id',
  coalesce(n.name, g.value ->> 'name'),
  r.parent,
  r.key,
  r.value,
  CASE
    WHEN r.key LIKE 'com.cloudflare.api.account.zone.%' THEN 'zone'
    WHEN r.key LIKE 'com.cloudflare.api.account.%' THEN 'account'
    WHEN r.key LIKE 'com.cloudflare.api.user.%' THEN 'user'
    ELSE 'other'
  END,
  r.key LIKE '%.*'
FROM jsonb_array_elements(CASE WHEN jsonb_typeof(policies) = 'array' THEN policies ELSE '[]'::jsonb END)
  WITH ORDINALITY AS p(value, ordinality)
CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(p.value -> 'permission_groups') = 'array' THEN p.value -> 'permission_groups' ELSE '[]'::jsonb END) AS g(value)
CROSS JOIN LATERAL (
  SELECT NULL::text AS parent, o.key, o.value #>> '{}' AS value
  FROM jsonb_each(CASE WHEN jsonb_typeof(p.value -> 'resources') = 'object' THEN p.value -> 'resources' ELSE '{}'::jsonb END) AS o
  WHERE jsonb_typeof(o.value) <> 'object'
  UNION ALL
  SELECT o.key, i.key, i.value #>> '{}'
  FROM jsonb_each(CASE WHEN jsonb_typeof(p.value -> 'resources') = 'object' THEN p.value -> 'resources' ELSE '{}'::jsonb END) AS o
  CROSS JOIN LATERAL jsonb_each(CASE WHEN jsonb_typeof(o.value) = 'object' THEN o.value ELSE '{}'::jsonb END) AS i
) AS r
LEFT JOIN permission_group_names n ON n.id = g.value ->> 'id'
$$;
--> statement-breakpoint

-- Every grant of every version of every token, with the period it held.
CREATE VIEW "token_grant_history" AS
SELECT
  v.version_id,
  v.token_id,
  v.name AS token_name,
  v.owner_type,
  v.account_id,
  v.user_id,
  v.status AS token_status,
  v.expires_on,
  coalesce(cardinality(v.ip_allow), 0) > 0 AS ip_restricted,
  v.valid_from,
  v.valid_to,
  g.policy_index,
  g.policy_id,
  g.effect,
  g.permission_group_id,
  g.permission_group_name,
  g.resource_parent,
  g.resource_key,
  g.resource_value,
  g.resource_scope,
  g.resource_wildcard
FROM api_token_versions v
CROSS JOIN LATERAL flarewatch_policy_grants(v.policies) g;
--> statement-breakpoint

-- token_grants as it stood at an instant: the row type of the view itself, so the columns are the
-- same by construction. last_used_on is what is known at that instant: today's value if it was
-- already that by then, else unknown (null).
CREATE FUNCTION token_grants_at(instant timestamptz) RETURNS SETOF token_grants
LANGUAGE sql STABLE AS $$
SELECT
  v.token_id, v.name, v.owner_type, v.account_id, v.status, t.issued_on, v.expires_on,
  CASE WHEN t.last_used_on <= instant THEN t.last_used_on END,
  coalesce(cardinality(v.ip_allow), 0) > 0,
  g.policy_index, g.policy_id, g.effect, g.permission_group_id, g.permission_group_name,
  g.resource_parent, g.resource_key, g.resource_value, g.resource_scope, g.resource_wildcard
FROM api_token_versions v
JOIN api_tokens t ON t.id = v.token_id
CROSS JOIN LATERAL flarewatch_policy_grants(v.policies) g
WHERE v.valid_from <= instant AND (v.valid_to IS NULL OR v.valid_to > instant)
$$;
--> statement-breakpoint

-- member_access as it stood at an instant (same row type). The account's name and 2FA enforcement
-- are those of its version at that instant (or its last one, as member_access shows a deleted
-- account's name); last_seen_at is capped at the instant.
CREATE FUNCTION member_access_at(instant timestamptz) RETURNS SETOF member_access
LANGUAGE sql STABLE AS $$
SELECT
  v.member_id, v.account_id, a.name, a.enforce_twofactor, v.user_id, v.email, v.status, v.status = 'pending',
  v.two_factor_enabled, coalesce(v.role_names, '{}'), coalesce(v.role_ids, '{}'), m.first_seen_at, least(m.last_seen_at, instant)
FROM account_member_versions v
JOIN account_members m ON m.id = v.member_id
LEFT JOIN LATERAL (
  SELECT x.name, x.enforce_twofactor FROM account_versions x
  WHERE x.account_id = v.account_id AND x.valid_from <= instant
  ORDER BY x.valid_from DESC, x.version_id DESC LIMIT 1
) a ON true
WHERE v.valid_from <= instant AND (v.valid_to IS NULL OR v.valid_to > instant)
$$;
--> statement-breakpoint

-- The audit log with one row per real event. The user log and an account's v1 log share an event's
-- id; the v2 log gives the same event another id, so a v1 entry is the same event as a v2 entry of
-- the same actor on the same resource, with the same result, within a second (and, for the account
-- v1 log, in the same account). The copy kept is the richest: v2, then account v1, then the user
-- log; `sources` lists every log that holds the event. Entries that v2 never records (views, 4xx)
-- keep their v1 row. A v1 entry without a resource id is never merged: over-counting beats losing one.
CREATE VIEW "audit_events" AS
SELECT
  a.*,
  ARRAY(
    SELECT s.source FROM (VALUES ('account_v2', 0), ('account_v1', 1), ('user_v1', 2)) AS s(source, rank)
    WHERE s.source = a.source OR EXISTS (
      SELECT 1 FROM audit_logs d
      WHERE d.source = s.source AND (
        (d.source <> 'account_v2' AND a.source <> 'account_v2' AND d.id = a.id AND d.event_time = a.event_time)
        OR ((d.source = 'account_v2') <> (a.source = 'account_v2')
          AND d.event_time BETWEEN a.event_time - interval '1 second' AND a.event_time + interval '1 second'
          AND d.resource_id = a.resource_id
          AND (d.actor_email = a.actor_email OR ((d.actor_email IS NULL OR a.actor_email IS NULL) AND d.actor_id = a.actor_id))
          AND d.action_result IS NOT DISTINCT FROM a.action_result
          AND (d.source = 'user_v1' OR a.source = 'user_v1' OR d.account_id = a.account_id))))
    ORDER BY s.rank
  ) AS sources
FROM audit_logs a
WHERE NOT (
  (a.source = 'user_v1' AND EXISTS (
    SELECT 1 FROM audit_logs d WHERE d.source = 'account_v1' AND d.id = a.id AND d.event_time = a.event_time))
  OR (a.source <> 'account_v2' AND a.resource_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM audit_logs d
    WHERE d.source = 'account_v2'
      AND d.event_time BETWEEN a.event_time - interval '1 second' AND a.event_time + interval '1 second'
      AND d.resource_id = a.resource_id
      AND (d.actor_email = a.actor_email OR ((d.actor_email IS NULL OR a.actor_email IS NULL) AND d.actor_id = a.actor_id))
      AND d.action_result IS NOT DISTINCT FROM a.action_result
      AND (a.source = 'user_v1' OR d.account_id = a.account_id)))
);
--> statement-breakpoint

-- The distinct resource types in the archive, by a loose scan of audit_logs_resource_idx (one probe
-- per type, not a read of the archive): lookups by resource id then use that index.
CREATE FUNCTION flarewatch_audit_resource_types() RETURNS SETOF text
LANGUAGE sql STABLE AS $$
WITH RECURSIVE t(rt) AS (
  (SELECT resource_type FROM audit_logs WHERE resource_type IS NOT NULL ORDER BY resource_type LIMIT 1)
  UNION ALL
  SELECT (SELECT resource_type FROM audit_logs WHERE resource_type > t.rt ORDER BY resource_type LIMIT 1) FROM t WHERE t.rt IS NOT NULL
)
SELECT rt FROM t WHERE rt IS NOT NULL
$$;
--> statement-breakpoint

-- Every outstanding invitation with the best time known for it. Invitations addressed to you carry
-- invited_on. A pending member carries no date in the API: since is the invite event's time where
-- the audit log has it (the latest member addition for that member id, or that email in that
-- account, before flarewatch first saw it pending), else when flarewatch first saw it pending.
-- since_source says which: invited_on, audit_log or first_seen_at.
CREATE VIEW "pending_invitations" AS
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
  'member:' || m.account_id || ':' || m.id, 'member', m.id, m.account_id, m.email,
  m.email, ev.actor_email, m.role_names, NULL::timestamptz, seen.at,
  coalesce(ev.event_time, seen.at),
  CASE WHEN ev.event_time IS NULL THEN 'first_seen_at' ELSE 'audit_log' END,
  ev.source || ':' || ev.id
FROM account_members m
CROSS JOIN LATERAL (
  -- The start of its current pending period: the first pending version after its last other one.
  SELECT coalesce((
    SELECT min(v.valid_from) FROM account_member_versions v
    WHERE v.member_id = m.id AND v.status = 'pending'
      AND v.valid_from >= coalesce((SELECT max(x.valid_to) FROM account_member_versions x
                                    WHERE x.member_id = m.id AND x.status IS DISTINCT FROM 'pending'), '-infinity')
  ), m.first_seen_at) AS at
) seen
LEFT JOIN LATERAL (
  SELECT e.source, e.id, e.event_time, e.actor_email
  FROM audit_events e
  WHERE e.resource_type = ANY (ARRAY(SELECT t FROM flarewatch_audit_resource_types() t WHERE t ILIKE '%member%'))
    AND (e.resource_id = m.id
      OR (e.account_id = m.account_id
        AND lower(coalesce(e.raw #>> '{resource,request,email}', e.raw #>> '{newValueJson,email}', e.raw #>> '{metadata,email}')) = lower(m.email)))
    AND lower(coalesce(e.action_type, '')) ~ '(create|add|invite)'
    AND coalesce(e.action_result, 'success') <> 'failure'
    -- Clocks differ a little; an event long after flarewatch saw the invitation is a later one.
    AND e.event_time <= seen.at + interval '5 minutes'
  ORDER BY e.event_time DESC
  LIMIT 1
) ev ON true
WHERE m.deleted_at IS NULL AND m.status = 'pending';
--> statement-breakpoint

-- A review is evidence: its snapshot and its decisions are never changed after the fact. A new
-- decision supersedes an older one; nothing is updated or deleted.
CREATE FUNCTION flarewatch_review_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%: % refused: reviews are append-only (record a new decision instead)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation';
END
$$;
--> statement-breakpoint
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['reviews', 'review_items', 'review_findings', 'review_decisions'] LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION flarewatch_review_append_only()', t || '_append_only', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION flarewatch_review_append_only()', t || '_no_truncate', t);
  END LOOP;
END
$$;
