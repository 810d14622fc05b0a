CREATE TABLE "api_token_versions" (
	"version_id" bigserial PRIMARY KEY NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone,
	"change" text NOT NULL,
	"changed_fields" text[] NOT NULL,
	"ended_by" text,
	"end_reason" text,
	"run_id" bigint,
	"stream" text,
	"token_id" text NOT NULL,
	"owner_type" text NOT NULL,
	"account_id" text,
	"user_id" text,
	"name" text,
	"status" text,
	"expires_on" timestamp with time zone,
	"not_before" timestamp with time zone,
	"policies" jsonb NOT NULL,
	"ip_allow" text[],
	"ip_deny" text[]
);
--> statement-breakpoint
CREATE TABLE "account_member_versions" (
	"version_id" bigserial PRIMARY KEY NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone,
	"change" text NOT NULL,
	"changed_fields" text[] NOT NULL,
	"ended_by" text,
	"end_reason" text,
	"run_id" bigint,
	"stream" text,
	"member_id" text NOT NULL,
	"account_id" text NOT NULL,
	"user_id" text,
	"email" text,
	"status" text,
	"two_factor_enabled" boolean,
	"role_ids" text[],
	"role_names" text[],
	"policies" jsonb
);
--> statement-breakpoint
CREATE TABLE "account_versions" (
	"version_id" bigserial PRIMARY KEY NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone,
	"change" text NOT NULL,
	"changed_fields" text[] NOT NULL,
	"ended_by" text,
	"end_reason" text,
	"run_id" bigint,
	"stream" text,
	"account_id" text NOT NULL,
	"name" text NOT NULL,
	"type" text,
	"enforce_twofactor" boolean
);
--> statement-breakpoint
CREATE TABLE "user_invite_versions" (
	"version_id" bigserial PRIMARY KEY NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone,
	"change" text NOT NULL,
	"changed_fields" text[] NOT NULL,
	"ended_by" text,
	"end_reason" text,
	"run_id" bigint,
	"stream" text,
	"invite_id" text NOT NULL,
	"user_id" text,
	"organization_id" text,
	"organization_name" text,
	"organization_enforces_twofactor" boolean,
	"invited_member_email" text,
	"invited_by" text,
	"invited_on" timestamp with time zone,
	"expires_on" timestamp with time zone,
	"status" text,
	"roles" text[]
);
--> statement-breakpoint
CREATE TABLE "reviews" (
	"id" serial PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"accounts" text[],
	"started_at" timestamp with time zone NOT NULL,
	"started_by" text,
	"freshness" jsonb NOT NULL,
	"previous_id" integer
);
--> statement-breakpoint
CREATE TABLE "review_items" (
	"review_id" integer NOT NULL,
	"item_key" text NOT NULL,
	"kind" text NOT NULL,
	"account_id" text,
	"label" text NOT NULL,
	"snapshot" jsonb NOT NULL,
	CONSTRAINT "review_items_review_id_item_key_pk" PRIMARY KEY("review_id","item_key")
);
--> statement-breakpoint
CREATE TABLE "review_findings" (
	"review_id" integer NOT NULL,
	"finding_id" bigint NOT NULL,
	"item_key" text,
	"rule_id" text NOT NULL,
	"kind" text NOT NULL,
	"severity" text NOT NULL,
	"title" text NOT NULL,
	"resource_key" text NOT NULL,
	"resource_name" text,
	"account_id" text,
	"suppressed" boolean NOT NULL,
	"suppression_reason" text,
	"facts" jsonb NOT NULL,
	"first_seen_at" timestamp with time zone NOT NULL,
	"controls" text[] NOT NULL,
	CONSTRAINT "review_findings_review_id_finding_id_pk" PRIMARY KEY("review_id","finding_id")
);
--> statement-breakpoint
CREATE TABLE "review_decisions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"review_id" integer NOT NULL,
	"item_key" text NOT NULL,
	"decision" text NOT NULL,
	"decided_by" text NOT NULL,
	"decided_at" timestamp with time zone NOT NULL,
	"note" text
);
--> statement-breakpoint
ALTER TABLE "review_items" ADD CONSTRAINT "review_items_review_id_reviews_id_fk" FOREIGN KEY ("review_id") REFERENCES "public"."reviews"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_findings" ADD CONSTRAINT "review_findings_review_id_reviews_id_fk" FOREIGN KEY ("review_id") REFERENCES "public"."reviews"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "review_decisions" ADD CONSTRAINT "review_decisions_review_id_item_key_review_items_review_id_item_key_fk" FOREIGN KEY ("review_id","item_key") REFERENCES "public"."review_items"("review_id","item_key") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_token_versions_token_idx" ON "api_token_versions" USING btree ("token_id","valid_from");--> statement-breakpoint
CREATE INDEX "api_token_versions_valid_idx" ON "api_token_versions" USING btree ("valid_from","valid_to");--> statement-breakpoint
CREATE INDEX "account_member_versions_member_idx" ON "account_member_versions" USING btree ("member_id","valid_from");--> statement-breakpoint
CREATE INDEX "account_member_versions_account_idx" ON "account_member_versions" USING btree ("account_id","valid_from");--> statement-breakpoint
CREATE INDEX "account_versions_account_idx" ON "account_versions" USING btree ("account_id","valid_from");--> statement-breakpoint
CREATE INDEX "user_invite_versions_invite_idx" ON "user_invite_versions" USING btree ("invite_id","valid_from");--> statement-breakpoint
CREATE INDEX "review_items_account_idx" ON "review_items" USING btree ("review_id","account_id");--> statement-breakpoint
CREATE INDEX "review_decisions_item_idx" ON "review_decisions" USING btree ("review_id","item_key","decided_at");