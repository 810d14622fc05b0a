-- Custom migration (issue 22 item 3: a query about one token or member must not grow with the
-- months kept). Such a query has no time bound, so it planned and probed every month partition's
-- resource and subject-email indexes (0.3-0.7 ms a month: 15-40 ms at five years) to find the few
-- months that hold the subject. PostgreSQL has no global index over a partitioned table, so these
-- two small tables are one: which months hold entries about a token or a member (by resource id:
-- the resource types that look like a token or a member, what `history` reads), or naming an e-mail in an account. A reader looks its subject's months up first and then
-- reads only those partitions. Other resources (DNS records, zones, ...) are not indexed: no reader
-- asks for one resource's whole history, and they are most of the archive's distinct ids.
--
-- They are kept by a statement trigger on audit_entries (every writer: the archive's set-based
-- insert, the view's row trigger, import), from the rows each statement inserted. They may say too
-- much, never too little: an entry deleted through the view leaves its month listed (a reader then
-- probes one month for nothing), and retention drops a partition at once and forgets its month
-- afterwards, with its packs, in their own statements (`flarewatch_audit_forget_months`, which
-- packing also runs, for a drop that was interrupted between the two), so dropping a month stays O(1).
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
-- The resource types whose ids are indexed by month: those `history token|member` selects
-- (flarewatch_audit_resource_types() ILIKE '%token%' / '%member%').
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
-- What a dropped month leaves behind once its partition is gone (retention dropped it, or a drop
-- was interrupted): its packs (0026) and its rows of the month index. Deleted after the drop, in
-- their own statements, so the drop itself stays O(1); retention runs it after its drops and
-- packing before it packs. Returns the rows deleted of each.
CREATE FUNCTION flarewatch_audit_forget_months(OUT packs bigint, OUT month_rows bigint)
LANGUAGE plpgsql AS $$
DECLARE gone date[]; r bigint; e bigint;
BEGIN
	-- The distinct months, by skipping through each month index (a probe a month, not a read of every row).
	WITH RECURSIVE pm(month) AS (
		SELECT min(month) FROM audit_packs
		UNION ALL SELECT (SELECT min(x.month) FROM audit_packs x WHERE x.month > pm.month) FROM pm WHERE pm.month IS NOT NULL
	), rm(month) AS (
		SELECT min(month) FROM audit_resource_months
		UNION ALL SELECT (SELECT min(x.month) FROM audit_resource_months x WHERE x.month > rm.month) FROM rm WHERE rm.month IS NOT NULL
	), em(month) AS (
		SELECT min(month) FROM audit_subject_email_months
		UNION ALL SELECT (SELECT min(x.month) FROM audit_subject_email_months x WHERE x.month > em.month) FROM em WHERE em.month IS NOT NULL
	)
	SELECT coalesce(array_agg(m.month), '{}') INTO gone
	FROM (SELECT month FROM pm UNION SELECT month FROM rm UNION SELECT month FROM em) m
	WHERE m.month IS NOT NULL
	  AND to_regclass(format('audit_logs_y%sm%s', to_char(m.month, 'YYYY'), to_char(m.month, 'MM'))) IS NULL;
	DELETE FROM audit_packs WHERE month = ANY (gone);
	GET DIAGNOSTICS packs = ROW_COUNT;
	DELETE FROM audit_resource_months WHERE month = ANY (gone);
	GET DIAGNOSTICS r = ROW_COUNT;
	DELETE FROM audit_subject_email_months WHERE month = ANY (gone);
	GET DIAGNOSTICS e = ROW_COUNT;
	month_rows := r + e;
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
