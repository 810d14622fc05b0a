CREATE TABLE "credentials" (
	"name" text PRIMARY KEY NOT NULL,
	"kind" text,
	"fingerprint" text,
	"status" text NOT NULL,
	"user_id" text,
	"user_email" text,
	"account_id" text,
	"token_id" text,
	"expires_on" timestamp with time zone,
	"not_before" timestamp with time zone,
	"last_verified_at" timestamp with time zone,
	"last_error" text,
	"verify" jsonb,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "account_access" (
	"credential" text NOT NULL,
	"account_id" text NOT NULL,
	"first_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"last_seen_at" timestamp with time zone DEFAULT now() NOT NULL,
	"deleted_at" timestamp with time zone,
	"deleted_reason" text,
	CONSTRAINT "account_access_credential_account_id_pk" PRIMARY KEY("credential","account_id")
);
--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "deleted_reason" text;--> statement-breakpoint
ALTER TABLE "accounts" ADD COLUMN "deleted_reason" text;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "user_id" text;--> statement-breakpoint
ALTER TABLE "api_tokens" ADD COLUMN "deleted_reason" text;--> statement-breakpoint
ALTER TABLE "permission_groups" ADD COLUMN "deleted_reason" text;--> statement-breakpoint
ALTER TABLE "account_members" ADD COLUMN "deleted_reason" text;--> statement-breakpoint
ALTER TABLE "account_roles" ADD COLUMN "deleted_reason" text;--> statement-breakpoint
ALTER TABLE "user_invites" ADD COLUMN "user_id" text;--> statement-breakpoint
ALTER TABLE "user_invites" ADD COLUMN "deleted_reason" text;--> statement-breakpoint
ALTER TABLE "user_organizations" ADD COLUMN "user_id" text;--> statement-breakpoint
ALTER TABLE "user_organizations" ADD COLUMN "deleted_reason" text;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "user_id" text;--> statement-breakpoint
ALTER TABLE "subscriptions" ADD COLUMN "deleted_reason" text;--> statement-breakpoint
ALTER TABLE "billing_history" ADD COLUMN "user_id" text;--> statement-breakpoint
ALTER TABLE "billing_history" ADD COLUMN "deleted_reason" text;--> statement-breakpoint
ALTER TABLE "ip_access_rules" ADD COLUMN "user_id" text;--> statement-breakpoint
ALTER TABLE "ip_access_rules" ADD COLUMN "deleted_reason" text;--> statement-breakpoint
ALTER TABLE "sync_state" ADD COLUMN "held_deletions" jsonb;--> statement-breakpoint
ALTER TABLE "sync_runs" ADD COLUMN "credential" text;--> statement-breakpoint
ALTER TABLE "sync_runs" ADD COLUMN "deletions_held" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_runs" ADD COLUMN "rewalks" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "sync_runs" ADD COLUMN "note" text;--> statement-breakpoint
CREATE INDEX "api_tokens_user_idx" ON "api_tokens" USING btree ("user_id");--> statement-breakpoint
-- Upgrade in place (hand-written): before this release flarewatch had one credential, now named
-- "default". Its user-level streams keep their checkpoints under the new names, the rows it owned
-- record their owner (the one user it could read, else the credential itself), and the accounts it
-- reached are recorded as reached by it, so the first walks after the upgrade mark nothing deleted.
CREATE TEMP TABLE "flarewatch_upgrade_owner" AS
SELECT CASE WHEN (SELECT count(*) FROM "users" WHERE "deleted_at" IS NULL) = 1
            THEN (SELECT "id" FROM "users" WHERE "deleted_at" IS NULL)
            ELSE 'credential:default' END AS "owner";--> statement-breakpoint
UPDATE "api_tokens" SET "user_id" = (SELECT "owner" FROM "flarewatch_upgrade_owner") WHERE "owner_type" = 'user' AND "user_id" IS NULL;--> statement-breakpoint
UPDATE "subscriptions" SET "user_id" = (SELECT "owner" FROM "flarewatch_upgrade_owner") WHERE "owner_type" = 'user' AND "user_id" IS NULL;--> statement-breakpoint
UPDATE "user_invites" SET "user_id" = (SELECT "owner" FROM "flarewatch_upgrade_owner") WHERE "user_id" IS NULL;--> statement-breakpoint
UPDATE "billing_history" SET "user_id" = (SELECT "owner" FROM "flarewatch_upgrade_owner") WHERE "user_id" IS NULL;--> statement-breakpoint
UPDATE "ip_access_rules" SET "user_id" = (SELECT "owner" FROM "flarewatch_upgrade_owner") WHERE "user_id" IS NULL;--> statement-breakpoint
UPDATE "user_organizations" SET "user_id" = (SELECT "owner" FROM "flarewatch_upgrade_owner") WHERE "user_id" IS NULL;--> statement-breakpoint
ALTER TABLE "user_organizations" ALTER COLUMN "user_id" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "user_organizations" DROP CONSTRAINT "user_organizations_pkey";--> statement-breakpoint
ALTER TABLE "user_organizations" ADD CONSTRAINT "user_organizations_user_id_id_pk" PRIMARY KEY("user_id","id");--> statement-breakpoint
DROP TABLE "flarewatch_upgrade_owner";--> statement-breakpoint
UPDATE "sync_state" SET "stream" = "stream" || ':default'
 WHERE "stream" IN ('user', 'accounts', 'user-tokens', 'user-invites', 'user-organizations', 'user-subscriptions', 'billing-history', 'ip-access-rules', 'user-audit');--> statement-breakpoint
UPDATE "sync_runs" SET "stream" = "stream" || ':default', "credential" = 'default'
 WHERE "stream" IN ('user', 'accounts', 'user-tokens', 'user-invites', 'user-organizations', 'user-subscriptions', 'billing-history', 'ip-access-rules', 'user-audit');--> statement-breakpoint
INSERT INTO "account_access" ("credential", "account_id", "first_seen_at", "last_seen_at")
SELECT 'default', "id", "first_seen_at", "last_seen_at" FROM "accounts" WHERE "deleted_at" IS NULL
ON CONFLICT DO NOTHING;