CREATE TABLE "rule_states" (
	"rule_id" text PRIMARY KEY NOT NULL,
	"kind" text DEFAULT 'state' NOT NULL,
	"status" text DEFAULT 'active' NOT NULL,
	"first_checked_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_checked_at" timestamp with time zone DEFAULT now() NOT NULL,
	"status_changed_at" timestamp with time zone DEFAULT now() NOT NULL,
	"summary_pending" boolean DEFAULT false NOT NULL,
	"baselined" integer DEFAULT 0 NOT NULL
);
--> statement-breakpoint
ALTER TABLE "alerts" ALTER COLUMN "finding_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "findings" ADD COLUMN "kind" text DEFAULT 'state' NOT NULL;--> statement-breakpoint
ALTER TABLE "findings" ADD COLUMN "last_event_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "findings" ADD COLUMN "resolution_reason" text;--> statement-breakpoint
ALTER TABLE "findings" ADD COLUMN "resolved_by" text;--> statement-breakpoint
ALTER TABLE "findings" ADD COLUMN "resolution_note" text;--> statement-breakpoint
ALTER TABLE "finding_events" ADD COLUMN "reason" text;--> statement-breakpoint
ALTER TABLE "finding_events" ADD COLUMN "acted_by" text;--> statement-breakpoint
ALTER TABLE "finding_events" ADD COLUMN "note" text;