CREATE TABLE "user_group_members" (
	"id" text PRIMARY KEY NOT NULL,
	"group_id" text NOT NULL,
	"member_id" text NOT NULL,
	"account_id" text NOT NULL,
	"email" text,
	"status" text,
	"raw" jsonb NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"deleted_reason" text
);
--> statement-breakpoint
CREATE TABLE "user_groups" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"name" text,
	"policies" jsonb NOT NULL,
	"created_on" timestamp with time zone,
	"modified_on" timestamp with time zone,
	"raw" jsonb NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"deleted_reason" text
);
--> statement-breakpoint
CREATE TABLE "resource_groups" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"name" text,
	"scope_key" text,
	"object_keys" text[],
	"meta" jsonb,
	"raw" jsonb NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"deleted_reason" text
);
--> statement-breakpoint
CREATE TABLE "iam_permission_groups" (
	"account_id" text NOT NULL,
	"id" text NOT NULL,
	"name" text,
	"meta" jsonb,
	"raw" jsonb NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"deleted_reason" text,
	CONSTRAINT "iam_permission_groups_account_id_id_pk" PRIMARY KEY("account_id","id")
);
--> statement-breakpoint
CREATE TABLE "zones" (
	"id" text PRIMARY KEY NOT NULL,
	"account_id" text NOT NULL,
	"name" text NOT NULL,
	"status" text,
	"raw" jsonb NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"deleted_reason" text
);
--> statement-breakpoint
CREATE TABLE "organization_accounts" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"account_id" text NOT NULL,
	"account_name" text,
	"raw" jsonb NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"deleted_reason" text
);
--> statement-breakpoint
CREATE TABLE "organization_members" (
	"id" text PRIMARY KEY NOT NULL,
	"organization_id" text NOT NULL,
	"member_id" text NOT NULL,
	"user_id" text,
	"email" text,
	"status" text,
	"two_factor_enabled" boolean,
	"raw" jsonb NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"deleted_reason" text
);
--> statement-breakpoint
CREATE TABLE "organizations" (
	"id" text PRIMARY KEY NOT NULL,
	"name" text,
	"credential" text,
	"raw" jsonb NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"deleted_reason" text
);
--> statement-breakpoint
CREATE TABLE "organization_account_versions" (
	"version_id" bigserial PRIMARY KEY NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone,
	"change" text NOT NULL,
	"changed_fields" text[] NOT NULL,
	"ended_by" text,
	"end_reason" text,
	"run_id" bigint,
	"stream" text,
	"link_id" text NOT NULL,
	"organization_id" text NOT NULL,
	"account_id" text NOT NULL,
	"account_name" text
);
--> statement-breakpoint
CREATE TABLE "organization_member_versions" (
	"version_id" bigserial PRIMARY KEY NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone,
	"change" text NOT NULL,
	"changed_fields" text[] NOT NULL,
	"ended_by" text,
	"end_reason" text,
	"run_id" bigint,
	"stream" text,
	"membership_id" text NOT NULL,
	"organization_id" text NOT NULL,
	"member_id" text NOT NULL,
	"user_id" text,
	"email" text,
	"status" text,
	"two_factor_enabled" boolean
);
--> statement-breakpoint
CREATE TABLE "resource_group_versions" (
	"version_id" bigserial PRIMARY KEY NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone,
	"change" text NOT NULL,
	"changed_fields" text[] NOT NULL,
	"ended_by" text,
	"end_reason" text,
	"run_id" bigint,
	"stream" text,
	"resource_group_id" text NOT NULL,
	"account_id" text NOT NULL,
	"name" text,
	"scope_key" text,
	"object_keys" text[]
);
--> statement-breakpoint
CREATE TABLE "user_group_member_versions" (
	"version_id" bigserial PRIMARY KEY NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone,
	"change" text NOT NULL,
	"changed_fields" text[] NOT NULL,
	"ended_by" text,
	"end_reason" text,
	"run_id" bigint,
	"stream" text,
	"membership_id" text NOT NULL,
	"group_id" text NOT NULL,
	"member_id" text NOT NULL,
	"account_id" text NOT NULL,
	"email" text,
	"status" text
);
--> statement-breakpoint
CREATE TABLE "user_group_versions" (
	"version_id" bigserial PRIMARY KEY NOT NULL,
	"valid_from" timestamp with time zone NOT NULL,
	"valid_to" timestamp with time zone,
	"change" text NOT NULL,
	"changed_fields" text[] NOT NULL,
	"ended_by" text,
	"end_reason" text,
	"run_id" bigint,
	"stream" text,
	"group_id" text NOT NULL,
	"account_id" text NOT NULL,
	"name" text,
	"policies" jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "access_listings" (
	"scope" text NOT NULL,
	"account_id" text,
	"listing" text NOT NULL,
	"state" text NOT NULL,
	"reason" text,
	"credential" text,
	"view_of" text DEFAULT 'account' NOT NULL,
	"checked_at" timestamp with time zone DEFAULT now() NOT NULL,
	"complete_at" timestamp with time zone,
	CONSTRAINT "access_listings_scope_listing_pk" PRIMARY KEY("scope","listing")
);
--> statement-breakpoint
CREATE INDEX "user_group_members_group_idx" ON "user_group_members" USING btree ("group_id");--> statement-breakpoint
CREATE INDEX "user_group_members_member_idx" ON "user_group_members" USING btree ("member_id");--> statement-breakpoint
CREATE INDEX "user_groups_account_idx" ON "user_groups" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "resource_groups_account_idx" ON "resource_groups" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "zones_account_idx" ON "zones" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "zones_name_idx" ON "zones" USING btree ("name");--> statement-breakpoint
CREATE INDEX "organization_accounts_org_idx" ON "organization_accounts" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "organization_accounts_account_idx" ON "organization_accounts" USING btree ("account_id");--> statement-breakpoint
CREATE INDEX "organization_members_org_idx" ON "organization_members" USING btree ("organization_id");--> statement-breakpoint
CREATE INDEX "organization_members_user_idx" ON "organization_members" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "organization_account_versions_key_idx" ON "organization_account_versions" USING btree ("link_id","valid_from");--> statement-breakpoint
CREATE INDEX "organization_account_versions_account_idx" ON "organization_account_versions" USING btree ("account_id","valid_from");--> statement-breakpoint
CREATE INDEX "organization_member_versions_key_idx" ON "organization_member_versions" USING btree ("membership_id","valid_from");--> statement-breakpoint
CREATE INDEX "organization_member_versions_user_idx" ON "organization_member_versions" USING btree ("user_id","valid_from");--> statement-breakpoint
CREATE INDEX "resource_group_versions_key_idx" ON "resource_group_versions" USING btree ("resource_group_id","valid_from");--> statement-breakpoint
CREATE INDEX "user_group_member_versions_key_idx" ON "user_group_member_versions" USING btree ("membership_id","valid_from");--> statement-breakpoint
CREATE INDEX "user_group_member_versions_member_idx" ON "user_group_member_versions" USING btree ("member_id","valid_from");--> statement-breakpoint
CREATE INDEX "user_group_member_versions_account_idx" ON "user_group_member_versions" USING btree ("account_id","valid_from");--> statement-breakpoint
CREATE INDEX "user_group_versions_group_idx" ON "user_group_versions" USING btree ("group_id","valid_from");--> statement-breakpoint
CREATE INDEX "user_group_versions_account_idx" ON "user_group_versions" USING btree ("account_id","valid_from");