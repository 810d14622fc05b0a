-- Custom migration: the SQL review surface (views) and a read-only role for reviewers.
-- Views read live tables, so they are always current; none of them stores anything.

-- Permission group ids are global, but each listing (user, every account) repeats them:
-- one name per id, preferring a row still listed, then the user listing, then the newest.
CREATE VIEW "permission_group_names" AS
SELECT DISTINCT ON (id) id, name, scopes, category
FROM permission_groups
ORDER BY id, (deleted_at IS NULL) DESC, (source = 'user') DESC, last_seen_at DESC;
--> statement-breakpoint

-- One row per token x policy x permission group x resource. Resources come flat
-- ({"com.cloudflare.api.account.zone.*": "*"}) or nested under an account
-- ({"com.cloudflare.api.account.<id>": {"com.cloudflare.api.account.zone.*": "*"}}): a nested
-- one is a row per inner key, with the outer key in resource_parent.
CREATE VIEW "token_grants" AS
SELECT
  t.id AS token_id,
  t.name AS token_name,
  t.owner_type,
  t.account_id,
  t.status AS token_status,
  t.issued_on,
  t.expires_on,
  t.last_used_on,
  coalesce(cardinality(t.ip_allow), 0) > 0 AS ip_restricted,
  p.ordinality AS policy_index,
  p.value ->> 'id' AS policy_id,
  p.value ->> 'effect' AS effect,
  g.value ->> 'id' AS permission_group_id,
  coalesce(n.name, g.value ->> 'name') AS permission_group_name,
  r.parent AS resource_parent,
  r.key AS resource_key,
  r.value AS resource_value,
  CASE
    WHEN r.key LIKE 'com.cloudflare.api.account.zone.%' THEN 'zone'
    WHEN r.key LIKE 'com.cloudflare.api.account.%' THEN 'account'
    WHEN r.key LIKE 'com.cloudflare.api.user.%' THEN 'user'
    ELSE 'other'
  END AS resource_scope,
  r.key LIKE '%.*' AS resource_wildcard
FROM api_tokens t
CROSS JOIN LATERAL jsonb_array_elements(CASE WHEN jsonb_typeof(t.policies) = 'array' THEN t.policies ELSE '[]'::jsonb END)
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
WHERE t.deleted_at IS NULL;
--> statement-breakpoint

-- Tokens that expire within 30 days, and tokens past their expiry that still exist (Cloudflare
-- keeps expired tokens until someone deletes them). Disabled tokens only once expired.
CREATE VIEW "expiring_tokens" AS
SELECT
  id AS token_id,
  name AS token_name,
  owner_type,
  account_id,
  status,
  expires_on,
  expires_on <= now() AS expired,
  expires_on - now() AS remaining,
  last_used_on
FROM api_tokens
WHERE deleted_at IS NULL
  AND expires_on IS NOT NULL
  AND expires_on < now() + interval '30 days'
  AND (status = 'active' OR expires_on <= now())
ORDER BY expires_on;
--> statement-breakpoint

CREATE VIEW "open_findings" AS
SELECT
  id AS finding_id,
  severity,
  rule_id,
  title,
  resource_type,
  resource_key,
  resource_name,
  account_id,
  first_seen_at,
  last_seen_at,
  reopened_count,
  facts
FROM findings
WHERE status = 'open' AND NOT suppressed
ORDER BY array_position(ARRAY['info', 'low', 'medium', 'high', 'critical']::text[], severity) DESC, rule_id, resource_key;
--> statement-breakpoint

CREATE VIEW "member_access" AS
SELECT
  m.id AS member_id,
  m.account_id,
  a.name AS account_name,
  a.enforce_twofactor AS account_enforces_twofactor,
  m.user_id,
  m.email,
  m.status,
  m.status = 'pending' AS pending,
  m.two_factor_enabled,
  coalesce(m.role_names, '{}') AS role_names,
  coalesce(m.role_ids, '{}') AS role_ids,
  m.first_seen_at,
  m.last_seen_at
FROM account_members m
LEFT JOIN accounts a ON a.id = m.account_id
WHERE m.deleted_at IS NULL;
--> statement-breakpoint

-- Reviewers get this role (GRANT flarewatch_reader TO alice;). Roles are per server, not per
-- database: created only if missing, so several flarewatch databases on one server share it.
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'flarewatch_reader') THEN
    CREATE ROLE flarewatch_reader NOLOGIN;
  END IF;
EXCEPTION
  -- Another database on the same server created it at the same moment.
  WHEN duplicate_object OR unique_violation THEN NULL;
END
$$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA public TO flarewatch_reader;
--> statement-breakpoint
GRANT SELECT ON ALL TABLES IN SCHEMA public TO flarewatch_reader;
--> statement-breakpoint
-- Tables created later by the migrating role (new monthly audit partitions, new tables) too.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO flarewatch_reader;
