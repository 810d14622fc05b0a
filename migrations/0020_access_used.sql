-- Custom migration (issue 18, item 5): access actually used. Which permission groups each token and
-- each member exercised, from the account audit log v2, through a mapping kept here as data.
-- docs/access-used.md explains the mapping, the window, coverage and why reads are invisible.

-- A v2 product or resource type as the mapping compares it: 'API Tokens', 'api_tokens' and
-- 'api-tokens' are one name (Cloudflare's spelling of these fields is not documented).
CREATE FUNCTION flarewatch_audit_norm(v text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT nullif(trim(both '_' from regexp_replace(lower(v), '[^a-z0-9]+', '_', 'g')), '')
$$;
--> statement-breakpoint

-- A v2 raw.uri as the mapping matches it: no query string, 32-hex ids replaced by :id, so one
-- pattern matches every zone and record and access_used() groups by a handful of request shapes.
CREATE FUNCTION flarewatch_audit_uri(v text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT regexp_replace(split_part(v, '?', 1), '/[0-9a-fA-F]{32}', '/:id', 'g')
$$;
--> statement-breakpoint

-- The mapping from a v2 write to the permission groups that can authorise it, in two kinds of row.
-- A name row (no uri_pattern) matches an entry by its normalised product and/or resource type (and
-- action type, when set; null = any). A path row (uri_pattern set) is the fallback for entries no
-- name row matches: a regular expression on the normalised raw.uri (plus any product, type or
-- action it also sets). Every group of every matching row counts as exercised (the safe reading:
-- a group that may have authorised a write is never suggested for removal). A write that neither
-- kind matches is reported as unmapped, never dropped.
-- `builtin` rows belong to flarewatch: a later migration replaces them (version says which set).
-- `local` rows are the operator's own and are never touched by a migration.
CREATE TABLE "audit_permission_map" (
	"id" text PRIMARY KEY,
	"source" text NOT NULL DEFAULT 'local',
	"version" integer NOT NULL DEFAULT 1,
	"product" text,
	"resource_type" text,
	"action_types" text[],
	"uri_pattern" text,
	"permission_groups" text[] NOT NULL,
	"note" text,
	CONSTRAINT "audit_permission_map_source_check" CHECK ("source" IN ('builtin', 'local')),
	CONSTRAINT "audit_permission_map_condition_check" CHECK (coalesce("product", "resource_type", "uri_pattern") IS NOT NULL),
	CONSTRAINT "audit_permission_map_groups_check" CHECK (cardinality("permission_groups") > 0),
	CONSTRAINT "audit_permission_map_product_check" CHECK ("product" IS NULL OR "product" = flarewatch_audit_norm("product")),
	CONSTRAINT "audit_permission_map_type_check" CHECK ("resource_type" IS NULL OR "resource_type" = flarewatch_audit_norm("resource_type")),
	-- Raises "invalid regular expression" on insert: a bad pattern is refused, never silently unmatched.
	CONSTRAINT "audit_permission_map_uri_check" CHECK ("uri_pattern" IS NULL OR ('' ~ "uri_pattern") IS NOT NULL)
);
--> statement-breakpoint

INSERT INTO "audit_permission_map" ("id", "source", "version", "product", "resource_type", "uri_pattern", "permission_groups", "note") VALUES
  ('dns-records',           'builtin', 1, 'dns_records',   NULL,               NULL, '{DNS Write}', 'DNS record create/update/delete'),
  ('dns-records-uri',       'builtin', 1, NULL,            NULL,               '/zones/[^/]+/dns_records(/|$)', '{DNS Write}', NULL),
  ('zone-settings',         'builtin', 1, 'zone_settings', NULL,               NULL, '{Zone Settings Write}', NULL),
  ('zone-settings-uri',     'builtin', 1, NULL,            NULL,               '/zones/[^/]+/settings(/|$)', '{Zone Settings Write}', NULL),
  ('zone-uri',              'builtin', 1, NULL,            NULL,               '/zones(/[^/]+)?/?$', '{Zone Write}', 'zone create, edit, delete'),
  ('workers-scripts',       'builtin', 1, 'workers',       'script',           NULL, '{Workers Scripts Write}', NULL),
  ('workers-scripts-uri',   'builtin', 1, NULL,            NULL,               '/accounts/[^/]+/workers/scripts(/|$)', '{Workers Scripts Write}', NULL),
  ('workers-kv-uri',        'builtin', 1, NULL,            NULL,               '/accounts/[^/]+/storage/kv(/|$)', '{Workers KV Storage Write}', NULL),
  ('r2-uri',                'builtin', 1, NULL,            NULL,               '/accounts/[^/]+/r2(/|$)', '{Workers R2 Storage Write}', NULL),
  ('pages-uri',             'builtin', 1, NULL,            NULL,               '/accounts/[^/]+/pages(/|$)', '{Pages Write}', NULL),
  ('account-tokens-uri',    'builtin', 1, NULL,            NULL,               '/accounts/[^/]+/tokens(/|$)', '{Account API Tokens Write}', 'account-owned tokens'),
  ('user-tokens-uri',       'builtin', 1, NULL,            NULL,               '/user/tokens(/|$)', '{API Tokens Write}', 'user-owned tokens'),
  ('members',               'builtin', 1, 'members',       NULL,               NULL, '{Account Settings Write}', 'Add Member accepts Account Settings Write (or SCIM Provisioning)'),
  ('members-uri',           'builtin', 1, NULL,            NULL,               '/accounts/[^/]+/members(/|$)', '{Account Settings Write}', NULL),
  ('account-settings',      'builtin', 1, 'accounts',      'account_settings', NULL, '{Account Settings Write}', NULL),
  ('account-settings-uri',  'builtin', 1, NULL,            NULL,               '/accounts/[^/]+/?$', '{Account Settings Write}', 'account name and settings'),
  ('waf',                   'builtin', 1, 'waf',           NULL,               NULL, '{Firewall Services Write}', NULL),
  ('firewall-uri',          'builtin', 1, NULL,            NULL,               '/zones/[^/]+/(firewall|filters|rulesets)(/|$)', '{Firewall Services Write}', 'WAF, firewall rules, zone rulesets'),
  ('cache-purge-uri',       'builtin', 1, NULL,            NULL,               '/zones/[^/]+/purge_cache(/|$)', '{Cache Purge}', NULL),
  ('ssl-uri',               'builtin', 1, NULL,            NULL,               '/zones/[^/]+/(ssl|custom_certificates)(/|$)', '{SSL and Certificates Write}', NULL),
  ('page-rules-uri',        'builtin', 1, NULL,            NULL,               '/zones/[^/]+/pagerules(/|$)', '{Page Rules Write}', NULL),
  ('load-balancers-uri',    'builtin', 1, NULL,            NULL,               '/zones/[^/]+/load_balancers(/|$)', '{Load Balancers Write}', NULL),
  ('lb-pools-uri',          'builtin', 1, NULL,            NULL,               '/accounts/[^/]+/load_balancers/(pools|monitors)(/|$)', '{Load Balancing: Monitors and Pools Write}', NULL),
  ('access-apps-uri',       'builtin', 1, NULL,            NULL,               '/accounts/[^/]+/access/(apps|policies)(/|$)', '{Access: Apps and Policies Write}', NULL),
  ('email-routing-uri',     'builtin', 1, NULL,            NULL,               '/zones/[^/]+/email/routing(/|$)', '{Email Routing Rules Write}', NULL),
  ('logpush-uri',           'builtin', 1, NULL,            NULL,               '/(zones|accounts)/[^/]+/logpush(/|$)', '{Logs Write}', NULL),
  ('billing-uri',           'builtin', 1, NULL,            NULL,               '/accounts/[^/]+/billing(/|$)', '{Billing Write}', NULL);
--> statement-breakpoint

-- How far back the archive holds an account's v2 log in full, from its stream's checkpoint:
-- covered_from is where the first walk began (checkpoint `from`, written since this release),
-- else the earliest archived entry (a bound that never overstates); never before the oldest
-- audit partition still kept (retention drops whole months). covered_to is the watermark. Days
-- `audit verify` found missing entries on (and not repaired) are listed in gap_days.
CREATE VIEW "audit_v2_coverage" AS
SELECT
  substr(s.stream, length('account-audit:') + 1) AS account_id,
  s.stream,
  CASE WHEN s.checkpoint ->> 'from' IS NOT NULL
    THEN greatest((s.checkpoint ->> 'from')::timestamptz, (
      SELECT min(make_timestamptz(substring(c.relname FROM 'y(\d{4})m')::int, substring(c.relname FROM 'm(\d{2})$')::int, 1, 0, 0, 0, 'UTC'))
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'audit_logs'::regclass AND c.relname ~ '^audit_logs_y\d{4}m\d{2}$'))
    ELSE (SELECT min(a.event_time) FROM audit_logs a WHERE a.account_id = substr(s.stream, length('account-audit:') + 1) AND a.source = 'account_v2')
  END AS covered_from,
  CASE WHEN s.checkpoint ->> 'from' IS NOT NULL THEN 'walk_start' ELSE 'first_entry' END AS covered_from_source,
  (s.checkpoint ->> 'watermark')::timestamptz AS covered_to,
  ARRAY(SELECT v.day FROM audit_verifications v WHERE v.stream = s.stream AND v.status = 'gap' ORDER BY v.day) AS gap_days
FROM sync_state s
WHERE s.stream LIKE 'account-audit:%';
--> statement-breakpoint

-- Per principal (a token, or a member acting as themselves: dashboard, global key), account and
-- permission group: the writes of the `days` days up to `as_of` and when the group was last used.
-- permission_group is null on the row counting writes no mapping row matched (`actions` lists them
-- as product/type/action). Reads are not in v2 (GET is not logged): a group absent here may still
-- be read from daily. A failed write counts: the principal relies on the group.
-- Plan: the window is read through partition pruning and each partition's event_time index
-- (audit_logs_event_time_idx), twice: once for the distinct kinds of write (product, type, action:
-- a few dozen, their names normalised and mapped once each), once grouped per principal and kind,
-- hash-joined to those kinds. The request path is folded (a regular expression, dearer than the
-- scan) only for entries of kinds no name row maps. No new
-- index: every principal's writes of the window are needed, so an index by token would not be used
-- (checked with EXPLAIN on 200k entries: docs/access-used.md).
CREATE FUNCTION access_used(days int, as_of timestamptz DEFAULT now())
RETURNS TABLE (principal_type text, principal_id text, principal_name text, account_id text, permission_group text,
               writes bigint, first_used_at timestamptz, last_used_at timestamptz, actions text[])
LANGUAGE sql STABLE AS $$
  WITH entries AS NOT MATERIALIZED (
    SELECT a.event_time, a.account_id, a.actor_token_name, a.actor_token_id, a.actor_email, a.resource_product, a.resource_type, a.action_type, a.raw,
           CASE WHEN a.actor_token_id IS NOT NULL THEN 'token' ELSE 'member' END AS kind, coalesce(a.actor_token_id, a.actor_id) AS who
    FROM audit_logs a
    WHERE a.source = 'account_v2'
      AND a.event_time > as_of - make_interval(days => days) AND a.event_time <= as_of
      AND (a.actor_token_id IS NOT NULL OR (a.actor_id IS NOT NULL AND coalesce(a.actor_type, 'user') = 'user'))
      AND lower(a.action_type) NOT IN ('view', 'read', 'get', 'list', 'login', 'logout')
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
           CASE WHEN cardinality(c.groups) = 0 THEN flarewatch_audit_uri(e.raw #>> '{raw,uri}') END AS uri,
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
