CREATE TABLE "access_listing_versions" (
	"version_id" bigserial PRIMARY KEY NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone,
	"change" text NOT NULL,
	"changed_fields" text[] NOT NULL,
	"ended_by" text,
	"end_reason" text,
	"run_id" bigint,
	"stream" text,
	"scope" text NOT NULL,
	"account_id" text,
	"listing" text NOT NULL,
	"state" text NOT NULL,
	"reason" text,
	"credential" text,
	"view_of" text NOT NULL
);
--> statement-breakpoint
CREATE INDEX "access_listing_versions_key_idx" ON "access_listing_versions" USING btree ("scope","listing","valid_from");--> statement-breakpoint
CREATE UNIQUE INDEX "access_listing_versions_open_idx" ON "access_listing_versions" USING btree ("scope","listing") WHERE valid_to is null;--> statement-breakpoint
-- Custom migration (issue: an access answer at a past instant judged by today's listings). Before
-- this, effective_access_at(t) and `access … --at` took each account's picture completeness from
-- access_pictures, i.e. from today's access_listings: a listing forbidden then but readable now
-- made a past answer "complete", one forbidden now but read then made it "incomplete". Now every
-- state of every listing is a version (access_listing_versions, kept by the trigger below), and the
-- pictures are worked out from the listings as they stood at the instant (access_pictures_at(t)).
-- An instant before an account's first recorded listing has no picture: it says so, incomplete.

-- A listing's version moves only when what the picture says of it moves: its state, reason and
-- view, and which credential could not read it (the credential of a complete read is not what
-- the picture shows: two credentials taking turns write no version).
CREATE FUNCTION flarewatch_access_listing_tracked(state text, reason text, credential text, view_of text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT ARRAY[state, reason, view_of, CASE WHEN state <> 'complete' THEN credential END]
$$;
--> statement-breakpoint
-- Baseline: today's states, from the last listing write before this migration (from then until now
-- nothing was written, so each state held over that span). Before it nothing is known.
INSERT INTO access_listing_versions (valid_from, change, changed_fields, scope, account_id, listing, state, reason, credential, view_of)
SELECT (SELECT max(x.checked_at) FROM access_listings x), 'baseline', '{}', l.scope, l.account_id, l.listing, l.state, l.reason, l.credential, l.view_of
FROM access_listings l;
--> statement-breakpoint
-- Kept by a trigger, not by the sync code: every writer of access_listings (the walks, a failure
-- written on its own, an operator's SQL) leaves its version. A version begins when the walk checked
-- (checked_at, the walk's clock); an update that did not move checked_at is taken as now. The row
-- lock of the upsert serialises two writers of one listing, so there is one open version each.
CREATE FUNCTION flarewatch_access_listing_version() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  cur access_listing_versions;
  had_any boolean;
  at timestamptz;
BEGIN
  IF TG_OP = 'DELETE' THEN
    UPDATE access_listing_versions v SET valid_to = greatest(now(), v.valid_from), ended_by = 'deletion', end_reason = 'access_listings row deleted'
    WHERE v.scope = OLD.scope AND v.listing = OLD.listing AND v.valid_to IS NULL;
    RETURN OLD;
  END IF;
  at := CASE WHEN TG_OP = 'UPDATE' AND NEW.checked_at IS NOT DISTINCT FROM OLD.checked_at THEN now() ELSE NEW.checked_at END;
  SELECT * INTO cur FROM access_listing_versions v WHERE v.scope = NEW.scope AND v.listing = NEW.listing AND v.valid_to IS NULL;
  IF cur.version_id IS NOT NULL THEN
    IF flarewatch_access_listing_tracked(cur.state, cur.reason, cur.credential, cur.view_of)
       IS NOT DISTINCT FROM flarewatch_access_listing_tracked(NEW.state, NEW.reason, NEW.credential, NEW.view_of) THEN
      RETURN NEW;
    END IF;
    at := greatest(at, cur.valid_from);
    UPDATE access_listing_versions SET valid_to = at, ended_by = 'change' WHERE version_id = cur.version_id;
    had_any := true;
  ELSE
    had_any := EXISTS (SELECT 1 FROM access_listing_versions v WHERE v.scope = NEW.scope AND v.listing = NEW.listing);
  END IF;
  INSERT INTO access_listing_versions (valid_from, change, changed_fields, scope, account_id, listing, state, reason, credential, view_of)
  VALUES (at, CASE WHEN cur.version_id IS NOT NULL THEN 'changed' WHEN had_any THEN 'restored' ELSE 'created' END,
    CASE WHEN cur.version_id IS NULL THEN '{}'::text[] ELSE array_remove(ARRAY[
      CASE WHEN cur.state IS DISTINCT FROM NEW.state THEN 'state' END,
      CASE WHEN cur.reason IS DISTINCT FROM NEW.reason THEN 'reason' END,
      CASE WHEN cur.credential IS DISTINCT FROM NEW.credential THEN 'credential' END,
      CASE WHEN cur.view_of IS DISTINCT FROM NEW.view_of THEN 'view_of' END], NULL) END,
    NEW.scope, NEW.account_id, NEW.listing, NEW.state, NEW.reason, NEW.credential, NEW.view_of);
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER access_listings_version AFTER INSERT OR UPDATE OR DELETE ON access_listings
FOR EACH ROW EXECUTE FUNCTION flarewatch_access_listing_version();
--> statement-breakpoint
-- Each account's access picture (0017's access_pictures, rule 11) from the listings as they stood at
-- `instant`, or from access_listings when it is null (what the view reads). At an instant before
-- an account's first listing version there is no picture: one line says so and since when history
-- runs (the user-level row likewise, before any version at all); the answer is incomplete, never
-- "nothing there". `listings` is NOT MATERIALIZED so each account's lookup is an index scan of
-- either table (materialized, 1,000 accounts took 1.8 s instead of 0.07 s): over 1,000 accounts with
-- 25,000 listing versions, the view 56 ms (0017's 73 ms), an instant 120 ms.
CREATE FUNCTION access_pictures_at(instant timestamptz)
RETURNS TABLE (account_id text, account_name text, complete boolean, missing text[])
LANGUAGE sql STABLE AS $$
WITH listings AS NOT MATERIALIZED (
  SELECT l.scope, l.listing, l.state, l.reason, l.credential, l.view_of FROM access_listings l WHERE instant IS NULL
  UNION ALL
  SELECT v.scope, v.listing, v.state, v.reason, v.credential, v.view_of FROM access_listing_versions v
  WHERE instant IS NOT NULL AND v.valid_from <= instant AND (v.valid_to IS NULL OR v.valid_to > instant)
), account_listings(listing) AS (
  VALUES ('members'), ('user-groups'), ('user-group-members'), ('resource-groups'), ('zones'), ('account-tokens')
), credential_listings(listing) AS (
  VALUES ('organizations'), ('user-tokens')
), unknown AS (
  SELECT 'no picture known at that instant: ' || coalesce('history begins ' || to_char(min(v.valid_from) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'), 'never synced') AS line
  FROM access_listing_versions v WHERE instant IS NOT NULL
), global_missing AS (
  SELECT CASE WHEN instant IS NOT NULL AND NOT EXISTS (SELECT 1 FROM access_listing_versions v WHERE v.valid_from <= instant)
    THEN ARRAY[(SELECT u.line FROM unknown u)] ELSE coalesce(array_agg(x.line ORDER BY x.line), '{}') END AS missing FROM (
    SELECT c.listing || ' not synced' AS line FROM credential_listings c
    WHERE NOT EXISTS (SELECT 1 FROM listings l WHERE l.listing = c.listing)
    UNION ALL
    SELECT l.listing || ' ' || l.state || coalesce(' (' || l.reason || ')', '') || ' for credential ' || coalesce(l.credential, substr(l.scope, 12))
    FROM listings l JOIN credential_listings c ON c.listing = l.listing
    WHERE l.state <> 'complete' AND l.scope LIKE 'credential:%'
  ) x
), accounts_missing AS (
  SELECT a.id AS account_id, a.name AS account_name,
    CASE WHEN instant IS NOT NULL AND NOT EXISTS (
      SELECT 1 FROM access_listing_versions v WHERE v.scope = 'account:' || a.id AND v.valid_from <= instant)
    THEN ARRAY['no picture known at that instant: ' || coalesce((
      SELECT 'history begins ' || to_char(min(v.valid_from) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
      FROM access_listing_versions v WHERE v.scope = 'account:' || a.id), 'never synced')]
    END AS unknown,
    ARRAY(
    SELECT n.listing || CASE
      WHEN l.state IS NULL THEN ' not synced'
      WHEN l.state <> 'complete' THEN ' ' || l.state || coalesce(' (' || l.reason || ')', '')
      ELSE ' view of ' || l.view_of END
    FROM account_listings n
    LEFT JOIN listings l ON l.scope = 'account:' || a.id AND l.listing = n.listing
    WHERE l.state IS DISTINCT FROM 'complete' OR l.view_of <> 'account'
    ORDER BY n.listing) AS missing
  FROM accounts a
)
SELECT am.account_id, am.account_name, am.unknown IS NULL AND cardinality(am.missing || g.missing) = 0,
  coalesce(am.unknown, am.missing || g.missing)
FROM accounts_missing am CROSS JOIN global_missing g
UNION ALL
SELECT NULL, NULL, cardinality(g.missing) = 0, g.missing FROM global_missing g
$$;
--> statement-breakpoint
-- The view reads the same definition, now.
CREATE OR REPLACE VIEW "access_pictures" AS SELECT * FROM access_pictures_at(NULL);
--> statement-breakpoint
-- The model (0022's body, unchanged but for `pictures`): at an instant, the pictures as they stood then.
CREATE OR REPLACE FUNCTION flarewatch_access_model(instant timestamptz, with_tokens boolean, scope_account text)
RETURNS TABLE (principal_type text, principal_id text, principal text, user_id text, account_id text, account_name text,
  access text, permission_group_id text, permission_group_name text, resource_key text, resource_kind text,
  zone_id text, zone_name text, path text, policy_id text, group_id text, group_name text, organization_id text,
  effective boolean, not_effective_reason text, picture_complete boolean, picture_missing text[])
LANGUAGE sql STABLE AS $$
WITH
-- One row per account (and one for what is no account's), computed once (0022), as it stood at `instant` (0031).
pictures AS MATERIALIZED (SELECT * FROM access_pictures_at(instant) p WHERE scope_account IS NULL OR p.account_id = scope_account),
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
