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
-- pattern matches every zone and record and the grouping in access_used() stays small.
CREATE FUNCTION flarewatch_audit_uri(v text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT regexp_replace(split_part(v, '?', 1), '/[0-9a-fA-F]{32}(?=/|$)', '/:id', 'g')
$$;
--> statement-breakpoint

-- The mapping from a v2 write to the permission groups that can authorise it. A row matches an
-- entry when every condition it sets matches (null = any): normalised product, normalised
-- resource type, action type, and a regular expression on the normalised raw.uri. Every group of
-- every matching row counts as exercised (the safe reading: a group that may have authorised a
-- write is never suggested for removal). A write no row matches is reported as unmapped.
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

-- Serves access_used(): the v2 writes of a window, token by token (the rule reads every token's,
-- `flarewatch access` one token's). Partial, so only entries a token made pay for it.
CREATE INDEX "audit_logs_v2_token_time_idx" ON "audit_logs" ("actor_token_id", "event_time") WHERE "source" = 'account_v2' AND "actor_token_id" IS NOT NULL;
--> statement-breakpoint

-- Per principal (a token, or a member acting as themselves: dashboard, global key), account and
-- permission group: the writes of the `days` days up to `as_of` and when the group was last
-- used. permission_group is null on the row counting writes no mapping row matched (`actions`
-- lists them as product/type/action). Reads are not in v2 (GET is not logged): a group absent
-- here may still be read from daily. A failed write counts: the principal relies on the group.
CREATE FUNCTION access_used(days int, as_of timestamptz DEFAULT now())
RETURNS TABLE (principal_type text, principal_id text, principal_name text, account_id text, permission_group text,
               writes bigint, first_used_at timestamptz, last_used_at timestamptz, actions text[])
LANGUAGE sql STABLE AS $$
  WITH w AS (
    SELECT CASE WHEN a.actor_token_id IS NOT NULL THEN 'token' ELSE 'member' END AS principal_type,
           coalesce(a.actor_token_id, a.actor_id) AS principal_id,
           max(CASE WHEN a.actor_token_id IS NOT NULL THEN coalesce(a.actor_token_name, a.actor_token_id) ELSE a.actor_email END) AS principal_name,
           a.account_id, flarewatch_audit_norm(a.resource_product) AS product, flarewatch_audit_norm(a.resource_type) AS rtype,
           lower(a.action_type) AS action, flarewatch_audit_uri(a.raw #>> '{raw,uri}') AS uri,
           count(*) AS writes, min(a.event_time) AS first_at, max(a.event_time) AS last_at
    FROM audit_logs a
    WHERE a.source = 'account_v2'
      AND a.event_time > as_of - make_interval(days => days) AND a.event_time <= as_of
      AND (a.actor_token_id IS NOT NULL OR (a.actor_id IS NOT NULL AND coalesce(a.actor_type, 'user') = 'user'))
      AND lower(a.action_type) NOT IN ('view', 'read', 'get', 'list', 'login', 'logout')
    GROUP BY 1, 2, 4, 5, 6, 7, 8
  ), mapped AS (
    SELECT w.*, g.name AS permission_group
    FROM w
    LEFT JOIN LATERAL (
      SELECT DISTINCT unnest(p.permission_groups) AS name
      FROM audit_permission_map p
      WHERE (p.product IS NULL OR p.product = w.product)
        AND (p.resource_type IS NULL OR p.resource_type = w.rtype)
        AND (p.action_types IS NULL OR w.action = ANY (p.action_types))
        AND (p.uri_pattern IS NULL OR w.uri ~ p.uri_pattern)
    ) g ON true
  )
  SELECT m.principal_type, m.principal_id, max(m.principal_name), m.account_id, m.permission_group,
         sum(m.writes)::bigint, min(m.first_at), max(m.last_at),
         array_agg(DISTINCT concat_ws('/', coalesce(m.product, '?'), coalesce(m.rtype, '?'), m.action) ORDER BY concat_ws('/', coalesce(m.product, '?'), coalesce(m.rtype, '?'), m.action))
  FROM mapped m
  GROUP BY m.principal_type, m.principal_id, m.account_id, m.permission_group
$$;
