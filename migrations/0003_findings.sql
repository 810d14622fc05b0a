CREATE TABLE "findings" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"fingerprint" text NOT NULL,
	"rule_id" text NOT NULL,
	"resource_key" text NOT NULL,
	"resource_type" text NOT NULL,
	"resource_name" text,
	"account_id" text,
	"severity" text NOT NULL,
	"status" text DEFAULT 'open' NOT NULL,
	"suppressed" boolean DEFAULT false NOT NULL,
	"suppression_id" bigint,
	"title" text NOT NULL,
	"facts" jsonb NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"resolved_at" timestamp with time zone,
	"reopened_count" integer DEFAULT 0 NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "findings_fingerprint_unique" UNIQUE("fingerprint")
);
--> statement-breakpoint
CREATE TABLE "finding_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"finding_id" bigint NOT NULL,
	"check_run_id" bigint,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"transition" text NOT NULL,
	"from_severity" text,
	"to_severity" text,
	"facts" jsonb
);
--> statement-breakpoint
CREATE TABLE "suppressions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"rule_id" text NOT NULL,
	"resource_pattern" text NOT NULL,
	"reason" text NOT NULL,
	"created_by" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "check_runs" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"started_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	"status" text DEFAULT 'running' NOT NULL,
	"rules_run" integer DEFAULT 0 NOT NULL,
	"rules_failed" integer DEFAULT 0 NOT NULL,
	"rules_skipped" integer DEFAULT 0 NOT NULL,
	"findings_opened" integer DEFAULT 0 NOT NULL,
	"findings_resolved" integer DEFAULT 0 NOT NULL,
	"findings_open" integer DEFAULT 0 NOT NULL,
	"errors" jsonb,
	"error_summary" text
);
--> statement-breakpoint
ALTER TABLE "finding_events" ADD CONSTRAINT "finding_events_finding_id_findings_id_fk" FOREIGN KEY ("finding_id") REFERENCES "public"."findings"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "findings_rule_status_idx" ON "findings" USING btree ("rule_id","status");--> statement-breakpoint
CREATE INDEX "findings_status_severity_idx" ON "findings" USING btree ("status","severity");--> statement-breakpoint
CREATE INDEX "finding_events_finding_idx" ON "finding_events" USING btree ("finding_id","at");