-- Custom migration (issue 22 item 3: a query about one token or member must not grow with the
-- months kept). Such a query has no time bound, so it planned and probed every month partition's
-- resource and subject-email indexes (0.3-0.7 ms a month: 15-40 ms at five years) to find the few
-- months that hold the subject. PostgreSQL has no global index over a partitioned table, so these
-- two small tables are one: which months hold entries about a token or a member (by resource id:
-- the resource types that look like a token or a member, what `history` and pending_invitations
-- read), or naming an e-mail in an account. A reader looks its subject's months up first and then
-- reads only those partitions. Other resources (DNS records, zones, ...) are not indexed: no reader
-- asks for one resource's whole history, and they are most of the archive's distinct ids.
--
-- They are kept by a statement trigger on audit_entries (every writer: the archive's set-based
-- insert, the view's row trigger, import), from the rows each statement inserted. They may say too
-- much, never too little: an entry deleted through the view leaves its month listed (a reader then
-- probes one month for nothing), and retention drops a partition at once and forgets its month
-- afterwards, in its own statement (`flarewatch_audit_forget_months`, which packing also runs, for a
-- drop that was interrupted between the two), so dropping a month stays O(1).
CREATE TABLE "audit_resource_months" (
	"resource_id" text NOT NULL,
	"month" date NOT NULL,
	PRIMARY KEY ("resource_id", "month")
);
--> statement-breakpoint
-- For forgetting a dropped month (and finding months no partition holds) without a scan.
CREATE INDEX "audit_resource_months_month_idx" ON "audit_resource_months" ("month");
--> statement-breakpoint
-- account_ref as audit_entries holds it (audit_accounts.ref); the e-mail lower-cased, as the
-- view's subject_email and audit_entries_subject_email_idx give it.
CREATE TABLE "audit_subject_email_months" (
	"account_ref" integer NOT NULL,
	"subject_email" text NOT NULL,
	"month" date NOT NULL,
	PRIMARY KEY ("account_ref", "subject_email", "month")
);
--> statement-breakpoint
CREATE INDEX "audit_subject_email_months_month_idx" ON "audit_subject_email_months" ("month");
--> statement-breakpoint
-- The UTC instant a month (`plus` months later) starts: the partitions' own bounds (0023).
-- From a date and a timestamp, never timestamptz arithmetic, which follows the session's time zone.
CREATE FUNCTION flarewatch_utc_month(month date, plus integer DEFAULT 0) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$ SELECT (date_trunc('month', month::timestamp) + make_interval(months => plus)) AT TIME ZONE 'UTC' $$;
--> statement-breakpoint
-- The resource types whose ids are indexed by month: those `history token|member` and
-- pending_invitations select (flarewatch_audit_resource_types() ILIKE '%token%' / '%member%').
CREATE FUNCTION flarewatch_audit_subject_type(resource_type text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$ SELECT resource_type ILIKE '%token%' OR resource_type ILIKE '%member%' $$;
--> statement-breakpoint
CREATE FUNCTION flarewatch_audit_note_months() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	-- In key order, so two writers take the new keys' locks in the same order (as the interning does).
	INSERT INTO audit_resource_months (resource_id, month)
	SELECT DISTINCT n.resource_id, date_trunc('month', n.event_time AT TIME ZONE 'UTC')::date
	FROM new_entries n JOIN audit_actions an ON an.ref = n.action_ref
	WHERE n.resource_id IS NOT NULL AND flarewatch_audit_subject_type(an.key ->> 4)
	ORDER BY 1, 2
	ON CONFLICT DO NOTHING;
	INSERT INTO audit_subject_email_months (account_ref, subject_email, month)
	SELECT DISTINCT n.account_ref, lower(coalesce(n.rest #>> '{resource,request,email}', n.rest #>> '{newValueJson,email}', n.rest #>> '{metadata,email}')),
	       date_trunc('month', n.event_time AT TIME ZONE 'UTC')::date
	FROM new_entries n
	WHERE n.account_ref IS NOT NULL
	  AND coalesce(n.rest #>> '{resource,request,email}', n.rest #>> '{newValueJson,email}', n.rest #>> '{metadata,email}') IS NOT NULL
	ORDER BY 1, 2, 3
	ON CONFLICT DO NOTHING;
	RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "audit_entries_note_months" AFTER INSERT ON "audit_entries"
REFERENCING NEW TABLE AS new_entries FOR EACH STATEMENT EXECUTE FUNCTION flarewatch_audit_note_months();
--> statement-breakpoint
-- What the archive already holds (one pass over it: about a minute for 10M entries).
INSERT INTO audit_resource_months (resource_id, month)
SELECT DISTINCT e.resource_id, date_trunc('month', e.event_time AT TIME ZONE 'UTC')::date
FROM audit_entries e JOIN audit_actions an ON an.ref = e.action_ref
WHERE e.resource_id IS NOT NULL AND flarewatch_audit_subject_type(an.key ->> 4)
ON CONFLICT DO NOTHING;
--> statement-breakpoint
INSERT INTO audit_subject_email_months (account_ref, subject_email, month)
SELECT DISTINCT account_ref, lower(coalesce(rest #>> '{resource,request,email}', rest #>> '{newValueJson,email}', rest #>> '{metadata,email}')),
       date_trunc('month', event_time AT TIME ZONE 'UTC')::date
FROM audit_entries
WHERE account_ref IS NOT NULL
  AND coalesce(rest #>> '{resource,request,email}', rest #>> '{newValueJson,email}', rest #>> '{metadata,email}') IS NOT NULL
ON CONFLICT DO NOTHING;
--> statement-breakpoint
-- The months no partition holds any more (retention dropped them, or a drop was interrupted):
-- forgotten after the drop, in their own statements, so the drop itself stays O(1). Returns the
-- rows deleted.
CREATE FUNCTION flarewatch_audit_forget_months() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE gone date[]; r bigint; e bigint;
BEGIN
	-- The distinct months, by skipping through each month index (a probe a month, not a read of every row).
	WITH RECURSIVE rm(month) AS (
		SELECT min(month) FROM audit_resource_months
		UNION ALL SELECT (SELECT min(x.month) FROM audit_resource_months x WHERE x.month > rm.month) FROM rm WHERE rm.month IS NOT NULL
	), em(month) AS (
		SELECT min(month) FROM audit_subject_email_months
		UNION ALL SELECT (SELECT min(x.month) FROM audit_subject_email_months x WHERE x.month > em.month) FROM em WHERE em.month IS NOT NULL
	)
	SELECT coalesce(array_agg(m.month), '{}') INTO gone
	FROM (SELECT month FROM rm UNION SELECT month FROM em) m
	WHERE m.month IS NOT NULL
	  AND to_regclass(format('audit_logs_y%sm%s', to_char(m.month, 'YYYY'), to_char(m.month, 'MM'))) IS NULL;
	DELETE FROM audit_resource_months WHERE month = ANY (gone);
	GET DIAGNOSTICS r = ROW_COUNT;
	DELETE FROM audit_subject_email_months WHERE month = ANY (gone);
	GET DIAGNOSTICS e = ROW_COUNT;
	RETURN r + e;
END;
$$;
--> statement-breakpoint
-- The distinct resource types (history, pending_invitations and reviews filter by them) were a
-- DISTINCT over the whole action table, which grows with the archive (each action, result and
-- description: 3,300 rows at 200k bench entries, 7 ms a query). Now a skip through an index of the
-- type: one probe per distinct type.
CREATE INDEX "audit_actions_resource_type_idx" ON "audit_actions" ((key ->> 4));
--> statement-breakpoint
CREATE OR REPLACE FUNCTION flarewatch_audit_resource_types() RETURNS SETOF text
LANGUAGE sql STABLE AS $$
  WITH RECURSIVE t(type) AS (
    SELECT min(key ->> 4) FROM audit_actions
    UNION ALL SELECT (SELECT min(a.key ->> 4) FROM audit_actions a WHERE a.key ->> 4 > t.type) FROM t WHERE t.type IS NOT NULL
  )
  SELECT type FROM t WHERE type IS NOT NULL
$$;
--> statement-breakpoint
-- pending_invitations as 0025 made it, but each pending member's invitation events are read only
-- from the months that hold entries about the member (by id, or naming its e-mail in its account):
-- each lookup's month bounds prune the partitions when it runs, instead of probing every month.
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
invite_actions AS (
  SELECT array_agg(an.ref) AS refs FROM audit_actions an, member_types mt
  WHERE an.key ->> 4 = ANY (mt.types)
    AND lower(coalesce(an.key ->> 0, '')) ~ '(create|add|invite)' AND coalesce(an.key ->> 1, 'success') <> 'failure'
),
candidates AS (
  SELECT p.account_id, p.id AS member_id, p.at, e.source, e.id AS event_id, e.event_time, e.actor_ref
  FROM pending p CROSS JOIN invite_actions ia
  JOIN audit_resource_months rm ON rm.resource_id = p.id
  CROSS JOIN LATERAL (
    SELECT e.source, e.id, e.event_time, e.actor_ref FROM audit_entries e
    WHERE e.resource_id = p.id AND e.action_ref = ANY (ia.refs)
      AND e.event_time >= flarewatch_utc_month(rm.month) AND e.event_time < flarewatch_utc_month(rm.month, 1)
    OFFSET 0 -- per pending member and month, by the index: not flattened into a hash join over the whole store
  ) e
  UNION ALL
  SELECT p.account_id, p.id, p.at, e.source, e.id, e.event_time, e.actor_ref
  FROM pending p CROSS JOIN invite_actions ia
  JOIN audit_accounts c ON c.key ->> 0 = p.account_id
  JOIN audit_subject_email_months sm ON sm.account_ref = c.ref AND sm.subject_email = lower(p.email)
  CROSS JOIN LATERAL (
    SELECT e.source, e.id, e.event_time, e.actor_ref FROM audit_entries e
    WHERE e.account_ref = c.ref
      AND lower(coalesce(e.rest #>> '{resource,request,email}', e.rest #>> '{newValueJson,email}', e.rest #>> '{metadata,email}')) = lower(p.email)
      AND e.action_ref = ANY (ia.refs)
      AND e.event_time >= flarewatch_utc_month(sm.month) AND e.event_time < flarewatch_utc_month(sm.month, 1)
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
