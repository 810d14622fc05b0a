CREATE TABLE "audit_log_quarantine" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"stream" text NOT NULL,
	"position" text,
	"reason" text NOT NULL,
	"raw_text" text NOT NULL,
	"raw_hash" text NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX "audit_log_quarantine_stream_hash_idx" ON "audit_log_quarantine" USING btree ("stream","raw_hash");--> statement-breakpoint
CREATE INDEX "audit_log_quarantine_received_idx" ON "audit_log_quarantine" USING btree ("received_at");