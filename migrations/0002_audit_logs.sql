-- Custom migration: drizzle-kit cannot declare a partitioned table.
-- audit_logs holds every entry of every audit-log version, one partition per month of event_time.
CREATE TABLE "audit_logs" (
	"source" text NOT NULL,
	"id" text NOT NULL,
	"event_time" timestamp with time zone NOT NULL,
	"account_id" text,
	"account_name" text,
	"action_type" text,
	"action_result" text,
	"action_description" text,
	"actor_id" text,
	"actor_email" text,
	"actor_ip" text,
	"actor_type" text,
	"actor_context" text,
	"actor_token_id" text,
	"actor_token_name" text,
	"interface" text,
	"resource_type" text,
	"resource_id" text,
	"resource_product" text,
	"resource_scope" text,
	"zone_id" text,
	"zone_name" text,
	"raw" jsonb NOT NULL,
	"archived_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "audit_logs_pkey" PRIMARY KEY ("source", "id", "event_time"),
	CONSTRAINT "audit_logs_source_check" CHECK ("source" IN ('user_v1', 'account_v1', 'account_v2'))
) PARTITION BY RANGE ("event_time");
--> statement-breakpoint
CREATE INDEX "audit_logs_event_time_idx" ON "audit_logs" ("event_time");
--> statement-breakpoint
CREATE INDEX "audit_logs_account_time_idx" ON "audit_logs" ("account_id", "event_time");
--> statement-breakpoint
CREATE INDEX "audit_logs_actor_email_time_idx" ON "audit_logs" ("actor_email", "event_time");
--> statement-breakpoint
CREATE INDEX "audit_logs_actor_id_time_idx" ON "audit_logs" ("actor_id", "event_time");
--> statement-breakpoint
CREATE INDEX "audit_logs_action_time_idx" ON "audit_logs" ("action_type", "event_time");
--> statement-breakpoint
CREATE INDEX "audit_logs_resource_idx" ON "audit_logs" ("resource_type", "resource_id");
--> statement-breakpoint
-- Creates the partition holding the UTC month of `month` if it is missing; safe to call concurrently.
-- Bounds are written with an explicit +00 so the session time zone cannot shift them.
CREATE FUNCTION flarewatch_ensure_audit_partition(month date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	lower_bound date := date_trunc('month', month)::date;
	upper_bound date := (date_trunc('month', month) + interval '1 month')::date;
	part text := format('audit_logs_y%sm%s', to_char(lower_bound, 'YYYY'), to_char(lower_bound, 'MM'));
BEGIN
	IF to_regclass(part) IS NOT NULL THEN
		RETURN part;
	END IF;
	-- Two workers may reach this at once; the loser's error means the partition now exists.
	BEGIN
		EXECUTE format(
			'CREATE TABLE IF NOT EXISTS %I PARTITION OF audit_logs FOR VALUES FROM (%L) TO (%L)',
			part, lower_bound::text || ' 00:00:00+00', upper_bound::text || ' 00:00:00+00'
		);
	EXCEPTION WHEN duplicate_table OR unique_violation THEN
		NULL;
	END;
	RETURN part;
END;
$$;
