CREATE TABLE "remediation_plans" (
	"id" serial PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"created_by" text NOT NULL,
	"source" jsonb NOT NULL,
	"credential" text NOT NULL,
	"note" text
);
--> statement-breakpoint
CREATE TABLE "remediation_actions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"plan_id" integer NOT NULL,
	"seq" integer NOT NULL,
	"kind" text NOT NULL,
	"object_key" text NOT NULL,
	"account_id" text,
	"resource_id" text NOT NULL,
	"label" text,
	"read_path" text NOT NULL,
	"method" text NOT NULL,
	"path" text NOT NULL,
	"body" jsonb,
	"precondition" jsonb NOT NULL,
	"before" jsonb NOT NULL,
	"credential" text NOT NULL,
	"reversible" boolean NOT NULL,
	"destructive" boolean NOT NULL,
	"finding_id" bigint,
	"reason" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "remediation_approvals" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"plan_id" integer NOT NULL,
	"approved_by" text NOT NULL,
	"approved_at" timestamp with time zone NOT NULL,
	"via" text DEFAULT 'person' NOT NULL,
	"note" text
);
--> statement-breakpoint
CREATE TABLE "remediation_attempts" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"action_id" bigint NOT NULL,
	"phase" text NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"request" jsonb NOT NULL,
	"credential" text NOT NULL,
	"credential_token_id" text
);
--> statement-breakpoint
CREATE TABLE "remediation_outcomes" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"action_id" bigint NOT NULL,
	"attempt_id" bigint,
	"phase" text NOT NULL,
	"status" text NOT NULL,
	"reason" text,
	"before_state" jsonb,
	"answer" jsonb,
	"after_state" jsonb,
	"verified" boolean DEFAULT false NOT NULL,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "remediation_exceptions" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"object_key" text NOT NULL,
	"rule" text,
	"reason" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"expires_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "remediation_notice_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"notice_id" bigint NOT NULL,
	"kind" text NOT NULL,
	"reason" text,
	"plan_id" integer,
	"at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "remediation_notices" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"policy" text NOT NULL,
	"object_key" text NOT NULL,
	"finding_id" bigint NOT NULL,
	"notice_at" timestamp with time zone NOT NULL,
	"act_on" timestamp with time zone NOT NULL,
	"owner_email" text,
	"last_used_on" timestamp with time zone,
	"facts" jsonb NOT NULL
);
--> statement-breakpoint
ALTER TABLE "remediation_actions" ADD CONSTRAINT "remediation_actions_plan_id_remediation_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."remediation_plans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "remediation_approvals" ADD CONSTRAINT "remediation_approvals_plan_id_remediation_plans_id_fk" FOREIGN KEY ("plan_id") REFERENCES "public"."remediation_plans"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "remediation_attempts" ADD CONSTRAINT "remediation_attempts_action_id_remediation_actions_id_fk" FOREIGN KEY ("action_id") REFERENCES "public"."remediation_actions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "remediation_outcomes" ADD CONSTRAINT "remediation_outcomes_action_id_remediation_actions_id_fk" FOREIGN KEY ("action_id") REFERENCES "public"."remediation_actions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "remediation_outcomes" ADD CONSTRAINT "remediation_outcomes_attempt_id_remediation_attempts_id_fk" FOREIGN KEY ("attempt_id") REFERENCES "public"."remediation_attempts"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "remediation_notice_events" ADD CONSTRAINT "remediation_notice_events_notice_id_remediation_notices_id_fk" FOREIGN KEY ("notice_id") REFERENCES "public"."remediation_notices"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "remediation_actions_plan_idx" ON "remediation_actions" USING btree ("plan_id","seq");--> statement-breakpoint
CREATE INDEX "remediation_actions_object_idx" ON "remediation_actions" USING btree ("object_key");--> statement-breakpoint
CREATE INDEX "remediation_approvals_plan_idx" ON "remediation_approvals" USING btree ("plan_id");--> statement-breakpoint
CREATE INDEX "remediation_attempts_action_idx" ON "remediation_attempts" USING btree ("action_id","phase");--> statement-breakpoint
CREATE INDEX "remediation_outcomes_action_idx" ON "remediation_outcomes" USING btree ("action_id","phase");--> statement-breakpoint
CREATE INDEX "remediation_notices_object_idx" ON "remediation_notices" USING btree ("policy","object_key","finding_id");--> statement-breakpoint

-- Custom SQL (drizzle-kit cannot express it). The remediation record is evidence, like a review:
-- plans, actions, approvals, attempts, outcomes, notices, their events and exceptions are only
-- ever added to. What a plan has become is read from the rows added after it, never updated in place.
CREATE FUNCTION flarewatch_remediation_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%: % refused: the remediation record is append-only (add an outcome, approval or event instead)', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'restrict_violation';
END
$$;
--> statement-breakpoint
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['remediation_plans', 'remediation_actions', 'remediation_approvals', 'remediation_attempts',
                           'remediation_outcomes', 'remediation_notices', 'remediation_notice_events', 'remediation_exceptions'] LOOP
    EXECUTE format('CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %I FOR EACH ROW EXECUTE FUNCTION flarewatch_remediation_append_only()', t || '_append_only', t);
    EXECUTE format('CREATE TRIGGER %I BEFORE TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION flarewatch_remediation_append_only()', t || '_no_truncate', t);
  END LOOP;
END
$$;
--> statement-breakpoint
-- A planner never approves their own plan, whatever client writes the row (the command checks it too).
CREATE FUNCTION flarewatch_remediation_no_self_approval() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.via = 'person' AND EXISTS (SELECT 1 FROM remediation_plans p WHERE p.id = NEW.plan_id AND lower(p.created_by) = lower(NEW.approved_by)) THEN
    RAISE EXCEPTION 'remediation_approvals: % planned plan %; a planner cannot approve their own plan', NEW.approved_by, NEW.plan_id
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER remediation_approvals_not_planner BEFORE INSERT ON remediation_approvals
  FOR EACH ROW EXECUTE FUNCTION flarewatch_remediation_no_self_approval();
--> statement-breakpoint
-- Each action with its latest outcome per phase: what `fix show` and `fix history` read.
CREATE VIEW remediation_action_status AS
SELECT a.*,
  (SELECT o.status FROM remediation_outcomes o WHERE o.action_id = a.id AND o.phase = 'apply' ORDER BY o.id DESC LIMIT 1) AS apply_status,
  (SELECT o.reason FROM remediation_outcomes o WHERE o.action_id = a.id AND o.phase = 'apply' ORDER BY o.id DESC LIMIT 1) AS apply_reason,
  (SELECT o.status FROM remediation_outcomes o WHERE o.action_id = a.id AND o.phase = 'undo' ORDER BY o.id DESC LIMIT 1) AS undo_status
FROM remediation_actions a;
--> statement-breakpoint
-- The audit-log entries flarewatch's own writes caused, linked back to the action that sent them:
-- same resource, logged from just before the send to an hour after it, by the sending token where
-- both sides know it. The archive sees them on its next audit walk.
CREATE VIEW remediation_audit_links AS
SELECT t.action_id, t.id AS attempt_id, t.phase, l.source, l.id AS audit_id, l.event_time, l.action_type,
       l.actor_token_id, l.resource_id
FROM remediation_attempts t
JOIN remediation_actions a ON a.id = t.action_id
JOIN audit_logs l ON l.resource_id = a.resource_id
  AND l.event_time >= t.started_at - interval '1 minute' AND l.event_time < t.started_at + interval '1 hour'
  AND (t.credential_token_id IS NULL OR l.actor_token_id IS NULL OR l.actor_token_id = t.credential_token_id)
  AND l.action_type IN ('update', 'delete', 'remove');
