CREATE TABLE "audit_verifications" (
	"stream" text NOT NULL,
	"day" date NOT NULL,
	"credential" text,
	"archived" integer NOT NULL,
	"api" integer NOT NULL,
	"missing" integer NOT NULL,
	"missing_sample" jsonb,
	"status" text NOT NULL,
	"verified_at" timestamp with time zone NOT NULL,
	"repaired_at" timestamp with time zone,
	CONSTRAINT "audit_verifications_stream_day_pk" PRIMARY KEY("stream","day")
);
