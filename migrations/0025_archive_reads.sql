-- Custom migration (the compact archive's readers, issue 22 follow-up). access_used read the window's
-- entries through the audit_logs view, and each unmapped write's request path by a primary-key lookup
-- per entry (19k index probes for 24k entries at 200k archived). It now reads audit_entries and the
-- lookup tables directly, the request path in the same scan; the rows are the same (0023's definition
-- is compared with this one in test/integration/archive-reads.test.ts).
CREATE OR REPLACE FUNCTION access_used(days int, as_of timestamptz DEFAULT now())
RETURNS TABLE (principal_type text, principal_id text, principal_name text, account_id text, permission_group text,
               writes bigint, first_used_at timestamptz, last_used_at timestamptz, actions text[])
LANGUAGE sql STABLE AS $$
  WITH entries AS MATERIALIZED (
    -- The stored entries and their interned keys, joined by reference (hash joins on small tables);
    -- the request path is read from the kept JSON in the same scan (raw.uri is never moved out of it).
    -- Materialized: the window is scanned once, and what is sorted later is these narrow rows, not
    -- the keys and kept JSON they come from (which spilled the sorts to disk).
    -- The actor and action are inner joins: an entry without either fails the filters below anyway.
    SELECT s.event_time, ac.key ->> 0 AS account_id, at.key ->> 6 AS actor_token_name, at.key ->> 5 AS actor_token_id, at.key ->> 1 AS actor_email,
           an.key ->> 5 AS resource_product, an.key ->> 4 AS resource_type, an.key ->> 0 AS action_type, s.rest #>> '{raw,uri}' AS raw_uri,
           CASE WHEN at.key ->> 5 IS NOT NULL THEN 'token' ELSE 'member' END AS kind, coalesce(at.key ->> 5, at.key ->> 0) AS who
    FROM audit_entries s
    JOIN audit_actors at ON at.ref = s.actor_ref
    JOIN audit_actions an ON an.ref = s.action_ref
    LEFT JOIN audit_accounts ac ON ac.ref = s.account_ref
    WHERE s.source = 'account_v2'
      AND s.event_time > as_of - make_interval(days => days) AND s.event_time <= as_of
      AND (at.key ->> 5 IS NOT NULL OR (at.key ->> 0 IS NOT NULL AND coalesce(at.key ->> 3, 'user') = 'user'))
      AND lower(an.key ->> 0) NOT IN ('view', 'read', 'get', 'list', 'login', 'logout')
  ), combos AS MATERIALIZED (
    -- Each kind of write in the window, with the groups the name rows give it (names normalised once per kind).
    SELECT c.*, ARRAY(SELECT DISTINCT x FROM audit_permission_map p, unnest(p.permission_groups) x
                      WHERE p.uri_pattern IS NULL
                        AND (p.product IS NULL OR p.product = c.product)
                        AND (p.resource_type IS NULL OR p.resource_type = c.rtype)
                        AND (p.action_types IS NULL OR c.action = ANY (p.action_types))) AS groups
    FROM (SELECT k.*, flarewatch_audit_norm(k.raw_product) AS product, flarewatch_audit_norm(k.raw_type) AS rtype
          FROM (SELECT DISTINCT coalesce(e.resource_product, '') AS raw_product, coalesce(e.resource_type, '') AS raw_type, lower(e.action_type) AS action
                FROM entries e) k) c
  ), g AS (
    -- Per principal and kind of write; the request path only for kinds no name row maps.
    SELECT e.kind, e.who, max(CASE WHEN e.kind = 'token' THEN coalesce(e.actor_token_name, e.actor_token_id) ELSE e.actor_email END) AS name,
           e.account_id, c.product, c.rtype, c.action, c.groups,
           CASE WHEN cardinality(c.groups) = 0 THEN flarewatch_audit_uri(e.raw_uri) END AS uri,
           count(*) AS writes, min(e.event_time) AS first_at, max(e.event_time) AS last_at
    FROM entries e
    JOIN combos c ON c.raw_product = coalesce(e.resource_product, '') AND c.raw_type = coalesce(e.resource_type, '') AND c.action = lower(e.action_type)
    GROUP BY e.kind, e.who, e.account_id, c.product, c.rtype, c.action, c.groups, 9
  ), mapped AS (
    SELECT g.kind, g.who, g.name, g.account_id, g.product, g.rtype, g.action, g.writes, g.first_at, g.last_at, x AS permission_group
    FROM g, unnest(g.groups) x
    UNION ALL
    SELECT g.kind, g.who, g.name, g.account_id, g.product, g.rtype, g.action, g.writes, g.first_at, g.last_at, m.name
    FROM g
    LEFT JOIN LATERAL (
      SELECT DISTINCT x AS name FROM audit_permission_map p, unnest(p.permission_groups) x
      WHERE p.uri_pattern IS NOT NULL AND g.uri ~ p.uri_pattern
        AND (p.product IS NULL OR p.product = g.product)
        AND (p.resource_type IS NULL OR p.resource_type = g.rtype)
        AND (p.action_types IS NULL OR g.action = ANY (p.action_types))
    ) m ON true
    WHERE cardinality(g.groups) = 0
  )
  SELECT m.kind, m.who, max(m.name), m.account_id, m.permission_group, sum(m.writes)::bigint, min(m.first_at), max(m.last_at),
         array_agg(DISTINCT concat_ws('/', coalesce(m.product, '?'), coalesce(m.rtype, '?'), m.action) ORDER BY concat_ws('/', coalesce(m.product, '?'), coalesce(m.rtype, '?'), m.action))
  FROM mapped m
  GROUP BY m.kind, m.who, m.account_id, m.permission_group
$$;

--> statement-breakpoint
-- pending_invitations as 0023 made it, but each pending member's invitation events are found in
-- audit_entries (by the resource and subject-email indexes, the qualifying actions' references
-- found once), and only those few are checked against audit_events; through the view the lookup
-- tables were joined per candidate by a nested loop over the whole actor table.
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
-- The member-event actions (kind, not failed, a create/add/invite): found once in the action table.
invite_actions AS (
  SELECT array_agg(an.ref) AS refs FROM audit_actions an, member_types mt
  WHERE an.key ->> 4 = ANY (mt.types)
    AND lower(coalesce(an.key ->> 0, '')) ~ '(create|add|invite)' AND coalesce(an.key ->> 1, 'success') <> 'failure'
),
-- Each pending member's invitation events, read from the store (0025): by member id
-- (audit_entries_resource_idx) and by the e-mail the event names in the account
-- (audit_entries_subject_email_idx), each kept when audit_events keeps it (its primary key looked up
-- there: the same de-duplication of v1 copies, for the few entries found, not through the view's joins).
candidates AS (
  SELECT p.account_id, p.id AS member_id, p.at, e.source, e.id AS event_id, e.event_time, e.actor_ref
  FROM pending p CROSS JOIN invite_actions ia
  CROSS JOIN LATERAL (
    SELECT e.source, e.id, e.event_time, e.actor_ref FROM audit_entries e
    WHERE e.resource_id = p.id AND e.action_ref = ANY (ia.refs)
    OFFSET 0 -- per pending member, by the index: not flattened into a hash join over the whole store
  ) e
  UNION ALL
  SELECT p.account_id, p.id, p.at, e.source, e.id, e.event_time, e.actor_ref
  FROM pending p CROSS JOIN invite_actions ia
  CROSS JOIN LATERAL (
    SELECT e.source, e.id, e.event_time, e.actor_ref FROM audit_entries e
    WHERE e.account_ref IN (SELECT c.ref FROM audit_accounts c WHERE c.key ->> 0 = p.account_id)
      AND lower(coalesce(e.rest #>> '{resource,request,email}', e.rest #>> '{newValueJson,email}', e.rest #>> '{metadata,email}')) = lower(p.email)
      AND e.action_ref = ANY (ia.refs)
    OFFSET 0
  ) e
),
matched AS (
  SELECT x.account_id, x.member_id, x.at, x.source, x.event_id, x.event_time,
         (SELECT at.key ->> 1 FROM audit_actors at WHERE at.ref = x.actor_ref) AS actor_email
  FROM candidates x
  WHERE EXISTS (SELECT 1 FROM audit_events d WHERE d.event_time = x.event_time AND d.source = x.source AND d.id = x.event_id)
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
