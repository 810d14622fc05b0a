CREATE TABLE "budget_rounds" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"round_at" timestamp with time zone NOT NULL,
	"budget" text NOT NULL,
	"credentials" text[] NOT NULL,
	"share" real NOT NULL,
	"capacity" integer NOT NULL,
	"planned" integer NOT NULL,
	"needed" integer NOT NULL,
	"streams_planned" integer NOT NULL,
	"deferred" text[] NOT NULL
);
--> statement-breakpoint
ALTER TABLE "sync_runs" ADD COLUMN "rate_limited" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE UNIQUE INDEX "budget_rounds_budget_round_idx" ON "budget_rounds" USING btree ("budget","round_at");