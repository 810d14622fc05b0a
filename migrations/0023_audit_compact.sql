-- Custom migration (issue 22 item 3: the archive's bytes per entry). audit_logs stored every entry's
-- raw JSON (~1 KB of jsonb) and, beside it, 20 text columns copied out of that same JSON (~400 B a
-- row), and its indexes keyed on those texts (32-character account ids, e-mails). PostgreSQL
-- compresses nothing in a row under ~2 KB, so the saving has to come from the layout:
--  * no field stored twice: a field copied into a column is removed from the stored JSON (`rest`),
--    and a bit of `moved` records that it was; the entry is rebuilt exactly (flarewatch_audit_raw)
--    by putting each moved field back. A field is moved only when its column holds exactly the
--    same JSON string (a number, a boolean, an object stays in `rest`), so nothing is lost;
--  * compression across rows: the columns that repeat across entries (account, actor, action,
--    zone) are interned into four small lookup tables, and an entry holds 4-byte references; the
--    indexes key on those references (the actor's id and e-mail share one index);
--  * the event time in the JSON (v2 action.time, v1 when) is moved when it is the event time as
--    text in one of three formats, and the v2 request's user agent is interned with the actor;
--  * the primary key is (event_time, source, id): the same uniqueness, and it serves the time
--    windows the event-time index served, so that index goes.
-- The physical table is audit_entries (monthly partitions keep their names audit_logs_yYYYYmMM, so
-- retention drops them as before); audit_logs is a view over it with the same columns as before
-- (plus subject_email, the e-mail a member event names, which an index answers), insertable through
-- an INSTEAD OF trigger. The sync writes a page set-based through flarewatch_audit_insert_staged().

CREATE TABLE "audit_accounts" ("ref" integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "key" jsonb NOT NULL UNIQUE);
--> statement-breakpoint
CREATE TABLE "audit_actors" ("ref" integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "key" jsonb NOT NULL UNIQUE);
--> statement-breakpoint
CREATE TABLE "audit_actions" ("ref" integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "key" jsonb NOT NULL UNIQUE);
--> statement-breakpoint
CREATE TABLE "audit_zones" ("ref" integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "key" jsonb NOT NULL UNIQUE);
--> statement-breakpoint
-- The lookups the view's readers filter on (an account's entries, a person's, a token's).
CREATE INDEX "audit_accounts_account_id_idx" ON "audit_accounts" (("key" ->> 0));
--> statement-breakpoint
CREATE INDEX "audit_actors_actor_id_idx" ON "audit_actors" (("key" ->> 0));
--> statement-breakpoint
CREATE INDEX "audit_actors_actor_email_idx" ON "audit_actors" (("key" ->> 1));
--> statement-breakpoint
CREATE INDEX "audit_actors_token_id_idx" ON "audit_actors" (("key" ->> 5));
--> statement-breakpoint
-- Fixed-width columns first: no alignment padding between them.
CREATE TABLE "audit_entries" (
	"event_time" timestamp with time zone NOT NULL,
	"archived_at" timestamp with time zone DEFAULT now() NOT NULL,
	"account_ref" integer,
	"actor_ref" integer,
	"action_ref" integer,
	"zone_ref" integer,
	"moved" integer NOT NULL,
	"source" text NOT NULL,
	"id" text NOT NULL,
	"resource_id" text,
	"rest" jsonb NOT NULL,
	-- Led by the event time, the key also serves the time windows (rules, cookbook): no separate time index.
	CONSTRAINT "audit_entries_pkey" PRIMARY KEY ("event_time", "source", "id"),
	CONSTRAINT "audit_entries_source_check" CHECK ("source" IN ('user_v1', 'account_v1', 'account_v2'))
) PARTITION BY RANGE ("event_time");
--> statement-breakpoint
-- The JSON paths a column may be moved from, with its bit in `moved`, per log version: v2 id,
-- account.{id,name}, action.{type,result,description}, actor.{id,email,ip_address,type,context,
-- token_id,token_name}, resource.{type,id,product,scope}, zone.{id,name}, action.time (three bits:
-- the event time as text with milliseconds, with none, with microseconds), raw.user_agent (interned
-- with the actor: a person's browser); v1 id, owner.id, action.{type,result}, actor.{id,email,ip,type},
-- interface, resource.{type,id}, metadata.{zone_id,zone_name}, when (three bits). The values array
-- `v` the functions take holds, in order: id, account_id, account_name, action_type, action_result,
-- action_description, actor_id, actor_email, actor_ip, actor_type, actor_context, actor_token_id,
-- actor_token_name, interface, resource_type, resource_id, resource_product, resource_scope,
-- zone_id, zone_name, the user agent. sync/audit-entry.ts maps the same paths to the columns.
-- Each is one expression (one pass, no loop): reading raw back costs a few jsonb builds.
-- What of `raw` the columns do not hold (generated from one table of paths, the same in both
-- functions): each path whose value is exactly its column's JSON string is left out and its bit set
-- in `moved`; an object left empty that way goes too (the rebuild recreates it). PL/pgSQL holding
-- one expression each: evaluated as a cached simple expression (a SQL function this large would be
-- planned again at every call).
CREATE FUNCTION flarewatch_audit_rest(source text, raw jsonb, event_time timestamptz, v text[], OUT moved int, OUT rest jsonb)
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  moved := CASE WHEN jsonb_typeof(raw) IS DISTINCT FROM 'object' THEN 0 WHEN source = 'account_v2' THEN
      CASE WHEN raw #> '{id}' = to_jsonb(v[1]) THEN 1 ELSE 0 END
      | CASE WHEN raw #> '{account,id}' = to_jsonb(v[2]) THEN 2 ELSE 0 END
      | CASE WHEN raw #> '{account,name}' = to_jsonb(v[3]) THEN 4 ELSE 0 END
      | CASE WHEN raw #> '{action,type}' = to_jsonb(v[4]) THEN 8 ELSE 0 END
      | CASE WHEN raw #> '{action,result}' = to_jsonb(v[5]) THEN 16 ELSE 0 END
      | CASE WHEN raw #> '{action,description}' = to_jsonb(v[6]) THEN 32 ELSE 0 END
      | CASE WHEN raw #> '{actor,id}' = to_jsonb(v[7]) THEN 64 ELSE 0 END
      | CASE WHEN raw #> '{actor,email}' = to_jsonb(v[8]) THEN 128 ELSE 0 END
      | CASE WHEN raw #> '{actor,ip_address}' = to_jsonb(v[9]) THEN 256 ELSE 0 END
      | CASE WHEN raw #> '{actor,type}' = to_jsonb(v[10]) THEN 512 ELSE 0 END
      | CASE WHEN raw #> '{actor,context}' = to_jsonb(v[11]) THEN 1024 ELSE 0 END
      | CASE WHEN raw #> '{actor,token_id}' = to_jsonb(v[12]) THEN 2048 ELSE 0 END
      | CASE WHEN raw #> '{actor,token_name}' = to_jsonb(v[13]) THEN 4096 ELSE 0 END
      | CASE WHEN raw #> '{resource,type}' = to_jsonb(v[15]) THEN 8192 ELSE 0 END
      | CASE WHEN raw #> '{resource,id}' = to_jsonb(v[16]) THEN 16384 ELSE 0 END
      | CASE WHEN raw #> '{resource,product}' = to_jsonb(v[17]) THEN 32768 ELSE 0 END
      | CASE WHEN raw #> '{resource,scope}' = to_jsonb(v[18]) THEN 65536 ELSE 0 END
      | CASE WHEN raw #> '{zone,id}' = to_jsonb(v[19]) THEN 131072 ELSE 0 END
      | CASE WHEN raw #> '{zone,name}' = to_jsonb(v[20]) THEN 262144 ELSE 0 END
      | CASE WHEN raw #> '{action,time}' = to_jsonb(to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) THEN 524288 ELSE 0 END
      | CASE WHEN raw #> '{action,time}' = to_jsonb(to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) THEN 1048576 ELSE 0 END
      | CASE WHEN raw #> '{action,time}' = to_jsonb(to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')) THEN 2097152 ELSE 0 END
      | CASE WHEN raw #> '{raw,user_agent}' = to_jsonb(v[21]) THEN 4194304 ELSE 0 END
    ELSE
      CASE WHEN raw #> '{id}' = to_jsonb(v[1]) THEN 1 ELSE 0 END
      | CASE WHEN raw #> '{owner,id}' = to_jsonb(v[2]) THEN 2 ELSE 0 END
      | CASE WHEN raw #> '{action,type}' = to_jsonb(v[4]) THEN 4 ELSE 0 END
      | CASE WHEN raw #> '{action,result}' = to_jsonb(v[5]) THEN 8 ELSE 0 END
      | CASE WHEN raw #> '{actor,id}' = to_jsonb(v[7]) THEN 16 ELSE 0 END
      | CASE WHEN raw #> '{actor,email}' = to_jsonb(v[8]) THEN 32 ELSE 0 END
      | CASE WHEN raw #> '{actor,ip}' = to_jsonb(v[9]) THEN 64 ELSE 0 END
      | CASE WHEN raw #> '{actor,type}' = to_jsonb(v[10]) THEN 128 ELSE 0 END
      | CASE WHEN raw #> '{interface}' = to_jsonb(v[14]) THEN 256 ELSE 0 END
      | CASE WHEN raw #> '{resource,type}' = to_jsonb(v[15]) THEN 512 ELSE 0 END
      | CASE WHEN raw #> '{resource,id}' = to_jsonb(v[16]) THEN 1024 ELSE 0 END
      | CASE WHEN raw #> '{metadata,zone_id}' = to_jsonb(v[19]) THEN 2048 ELSE 0 END
      | CASE WHEN raw #> '{metadata,zone_name}' = to_jsonb(v[20]) THEN 4096 ELSE 0 END
      | CASE WHEN raw #> '{when}' = to_jsonb(to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) THEN 8192 ELSE 0 END
      | CASE WHEN raw #> '{when}' = to_jsonb(to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')) THEN 16384 ELSE 0 END
      | CASE WHEN raw #> '{when}' = to_jsonb(to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')) THEN 32768 ELSE 0 END
    END;
  rest := CASE WHEN moved = 0 THEN raw WHEN source = 'account_v2' THEN
      (raw - array_remove(ARRAY[CASE WHEN moved & 1 <> 0 THEN 'id' END, CASE WHEN moved & 6 <> 0 THEN 'account' END, CASE WHEN moved & 3670072 <> 0 THEN 'action' END, CASE WHEN moved & 8128 <> 0 THEN 'actor' END, CASE WHEN moved & 122880 <> 0 THEN 'resource' END, CASE WHEN moved & 393216 <> 0 THEN 'zone' END, CASE WHEN moved & 4194304 <> 0 THEN 'raw' END], NULL))
      || CASE WHEN moved & 6 <> 0 AND (raw -> 'account') - array_remove(ARRAY[CASE WHEN moved & 2 <> 0 THEN 'id' END, CASE WHEN moved & 4 <> 0 THEN 'name' END], NULL) <> '{}'::jsonb THEN jsonb_build_object('account', (raw -> 'account') - array_remove(ARRAY[CASE WHEN moved & 2 <> 0 THEN 'id' END, CASE WHEN moved & 4 <> 0 THEN 'name' END], NULL)) ELSE '{}'::jsonb END
      || CASE WHEN moved & 3670072 <> 0 AND (raw -> 'action') - array_remove(ARRAY[CASE WHEN moved & 8 <> 0 THEN 'type' END, CASE WHEN moved & 16 <> 0 THEN 'result' END, CASE WHEN moved & 32 <> 0 THEN 'description' END, CASE WHEN moved & 3670016 <> 0 THEN 'time' END], NULL) <> '{}'::jsonb THEN jsonb_build_object('action', (raw -> 'action') - array_remove(ARRAY[CASE WHEN moved & 8 <> 0 THEN 'type' END, CASE WHEN moved & 16 <> 0 THEN 'result' END, CASE WHEN moved & 32 <> 0 THEN 'description' END, CASE WHEN moved & 3670016 <> 0 THEN 'time' END], NULL)) ELSE '{}'::jsonb END
      || CASE WHEN moved & 8128 <> 0 AND (raw -> 'actor') - array_remove(ARRAY[CASE WHEN moved & 64 <> 0 THEN 'id' END, CASE WHEN moved & 128 <> 0 THEN 'email' END, CASE WHEN moved & 256 <> 0 THEN 'ip_address' END, CASE WHEN moved & 512 <> 0 THEN 'type' END, CASE WHEN moved & 1024 <> 0 THEN 'context' END, CASE WHEN moved & 2048 <> 0 THEN 'token_id' END, CASE WHEN moved & 4096 <> 0 THEN 'token_name' END], NULL) <> '{}'::jsonb THEN jsonb_build_object('actor', (raw -> 'actor') - array_remove(ARRAY[CASE WHEN moved & 64 <> 0 THEN 'id' END, CASE WHEN moved & 128 <> 0 THEN 'email' END, CASE WHEN moved & 256 <> 0 THEN 'ip_address' END, CASE WHEN moved & 512 <> 0 THEN 'type' END, CASE WHEN moved & 1024 <> 0 THEN 'context' END, CASE WHEN moved & 2048 <> 0 THEN 'token_id' END, CASE WHEN moved & 4096 <> 0 THEN 'token_name' END], NULL)) ELSE '{}'::jsonb END
      || CASE WHEN moved & 122880 <> 0 AND (raw -> 'resource') - array_remove(ARRAY[CASE WHEN moved & 8192 <> 0 THEN 'type' END, CASE WHEN moved & 16384 <> 0 THEN 'id' END, CASE WHEN moved & 32768 <> 0 THEN 'product' END, CASE WHEN moved & 65536 <> 0 THEN 'scope' END], NULL) <> '{}'::jsonb THEN jsonb_build_object('resource', (raw -> 'resource') - array_remove(ARRAY[CASE WHEN moved & 8192 <> 0 THEN 'type' END, CASE WHEN moved & 16384 <> 0 THEN 'id' END, CASE WHEN moved & 32768 <> 0 THEN 'product' END, CASE WHEN moved & 65536 <> 0 THEN 'scope' END], NULL)) ELSE '{}'::jsonb END
      || CASE WHEN moved & 393216 <> 0 AND (raw -> 'zone') - array_remove(ARRAY[CASE WHEN moved & 131072 <> 0 THEN 'id' END, CASE WHEN moved & 262144 <> 0 THEN 'name' END], NULL) <> '{}'::jsonb THEN jsonb_build_object('zone', (raw -> 'zone') - array_remove(ARRAY[CASE WHEN moved & 131072 <> 0 THEN 'id' END, CASE WHEN moved & 262144 <> 0 THEN 'name' END], NULL)) ELSE '{}'::jsonb END
      || CASE WHEN moved & 4194304 <> 0 AND (raw -> 'raw') - array_remove(ARRAY[CASE WHEN moved & 4194304 <> 0 THEN 'user_agent' END], NULL) <> '{}'::jsonb THEN jsonb_build_object('raw', (raw -> 'raw') - array_remove(ARRAY[CASE WHEN moved & 4194304 <> 0 THEN 'user_agent' END], NULL)) ELSE '{}'::jsonb END
    ELSE
      (raw - array_remove(ARRAY[CASE WHEN moved & 1 <> 0 THEN 'id' END, CASE WHEN moved & 256 <> 0 THEN 'interface' END, CASE WHEN moved & 57344 <> 0 THEN 'when' END, CASE WHEN moved & 2 <> 0 THEN 'owner' END, CASE WHEN moved & 12 <> 0 THEN 'action' END, CASE WHEN moved & 240 <> 0 THEN 'actor' END, CASE WHEN moved & 1536 <> 0 THEN 'resource' END, CASE WHEN moved & 6144 <> 0 THEN 'metadata' END], NULL))
      || CASE WHEN moved & 2 <> 0 AND (raw -> 'owner') - array_remove(ARRAY[CASE WHEN moved & 2 <> 0 THEN 'id' END], NULL) <> '{}'::jsonb THEN jsonb_build_object('owner', (raw -> 'owner') - array_remove(ARRAY[CASE WHEN moved & 2 <> 0 THEN 'id' END], NULL)) ELSE '{}'::jsonb END
      || CASE WHEN moved & 12 <> 0 AND (raw -> 'action') - array_remove(ARRAY[CASE WHEN moved & 4 <> 0 THEN 'type' END, CASE WHEN moved & 8 <> 0 THEN 'result' END], NULL) <> '{}'::jsonb THEN jsonb_build_object('action', (raw -> 'action') - array_remove(ARRAY[CASE WHEN moved & 4 <> 0 THEN 'type' END, CASE WHEN moved & 8 <> 0 THEN 'result' END], NULL)) ELSE '{}'::jsonb END
      || CASE WHEN moved & 240 <> 0 AND (raw -> 'actor') - array_remove(ARRAY[CASE WHEN moved & 16 <> 0 THEN 'id' END, CASE WHEN moved & 32 <> 0 THEN 'email' END, CASE WHEN moved & 64 <> 0 THEN 'ip' END, CASE WHEN moved & 128 <> 0 THEN 'type' END], NULL) <> '{}'::jsonb THEN jsonb_build_object('actor', (raw -> 'actor') - array_remove(ARRAY[CASE WHEN moved & 16 <> 0 THEN 'id' END, CASE WHEN moved & 32 <> 0 THEN 'email' END, CASE WHEN moved & 64 <> 0 THEN 'ip' END, CASE WHEN moved & 128 <> 0 THEN 'type' END], NULL)) ELSE '{}'::jsonb END
      || CASE WHEN moved & 1536 <> 0 AND (raw -> 'resource') - array_remove(ARRAY[CASE WHEN moved & 512 <> 0 THEN 'type' END, CASE WHEN moved & 1024 <> 0 THEN 'id' END], NULL) <> '{}'::jsonb THEN jsonb_build_object('resource', (raw -> 'resource') - array_remove(ARRAY[CASE WHEN moved & 512 <> 0 THEN 'type' END, CASE WHEN moved & 1024 <> 0 THEN 'id' END], NULL)) ELSE '{}'::jsonb END
      || CASE WHEN moved & 6144 <> 0 AND (raw -> 'metadata') - array_remove(ARRAY[CASE WHEN moved & 2048 <> 0 THEN 'zone_id' END, CASE WHEN moved & 4096 <> 0 THEN 'zone_name' END], NULL) <> '{}'::jsonb THEN jsonb_build_object('metadata', (raw -> 'metadata') - array_remove(ARRAY[CASE WHEN moved & 2048 <> 0 THEN 'zone_id' END, CASE WHEN moved & 4096 <> 0 THEN 'zone_name' END], NULL)) ELSE '{}'::jsonb END
    END;
END;
$$;
--> statement-breakpoint
-- The entry's raw JSON as the API served it: `rest` with every moved field put back.
CREATE FUNCTION flarewatch_audit_raw(source text, moved int, rest jsonb, event_time timestamptz, v text[]) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN CASE WHEN moved = 0 THEN rest WHEN source = 'account_v2' THEN
      rest
      || jsonb_strip_nulls(jsonb_build_object('id', CASE WHEN moved & 1 <> 0 THEN v[1] END))
      || CASE WHEN moved & 6 <> 0 THEN jsonb_build_object('account', coalesce(rest -> 'account', '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('id', CASE WHEN moved & 2 <> 0 THEN v[2] END, 'name', CASE WHEN moved & 4 <> 0 THEN v[3] END))) ELSE '{}'::jsonb END
      || CASE WHEN moved & 3670072 <> 0 THEN jsonb_build_object('action', coalesce(rest -> 'action', '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('type', CASE WHEN moved & 8 <> 0 THEN v[4] END, 'result', CASE WHEN moved & 16 <> 0 THEN v[5] END, 'description', CASE WHEN moved & 32 <> 0 THEN v[6] END, 'time', CASE WHEN moved & 524288 <> 0 THEN to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') WHEN moved & 1048576 <> 0 THEN to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') WHEN moved & 2097152 <> 0 THEN to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END))) ELSE '{}'::jsonb END
      || CASE WHEN moved & 8128 <> 0 THEN jsonb_build_object('actor', coalesce(rest -> 'actor', '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('id', CASE WHEN moved & 64 <> 0 THEN v[7] END, 'email', CASE WHEN moved & 128 <> 0 THEN v[8] END, 'ip_address', CASE WHEN moved & 256 <> 0 THEN v[9] END, 'type', CASE WHEN moved & 512 <> 0 THEN v[10] END, 'context', CASE WHEN moved & 1024 <> 0 THEN v[11] END, 'token_id', CASE WHEN moved & 2048 <> 0 THEN v[12] END, 'token_name', CASE WHEN moved & 4096 <> 0 THEN v[13] END))) ELSE '{}'::jsonb END
      || CASE WHEN moved & 122880 <> 0 THEN jsonb_build_object('resource', coalesce(rest -> 'resource', '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('type', CASE WHEN moved & 8192 <> 0 THEN v[15] END, 'id', CASE WHEN moved & 16384 <> 0 THEN v[16] END, 'product', CASE WHEN moved & 32768 <> 0 THEN v[17] END, 'scope', CASE WHEN moved & 65536 <> 0 THEN v[18] END))) ELSE '{}'::jsonb END
      || CASE WHEN moved & 393216 <> 0 THEN jsonb_build_object('zone', coalesce(rest -> 'zone', '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('id', CASE WHEN moved & 131072 <> 0 THEN v[19] END, 'name', CASE WHEN moved & 262144 <> 0 THEN v[20] END))) ELSE '{}'::jsonb END
      || CASE WHEN moved & 4194304 <> 0 THEN jsonb_build_object('raw', coalesce(rest -> 'raw', '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('user_agent', CASE WHEN moved & 4194304 <> 0 THEN v[21] END))) ELSE '{}'::jsonb END
    ELSE
      rest
      || jsonb_strip_nulls(jsonb_build_object('id', CASE WHEN moved & 1 <> 0 THEN v[1] END, 'interface', CASE WHEN moved & 256 <> 0 THEN v[14] END, 'when', CASE WHEN moved & 8192 <> 0 THEN to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') WHEN moved & 16384 <> 0 THEN to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') WHEN moved & 32768 <> 0 THEN to_char(event_time AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END))
      || CASE WHEN moved & 2 <> 0 THEN jsonb_build_object('owner', coalesce(rest -> 'owner', '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('id', CASE WHEN moved & 2 <> 0 THEN v[2] END))) ELSE '{}'::jsonb END
      || CASE WHEN moved & 12 <> 0 THEN jsonb_build_object('action', coalesce(rest -> 'action', '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('type', CASE WHEN moved & 4 <> 0 THEN v[4] END, 'result', CASE WHEN moved & 8 <> 0 THEN v[5] END))) ELSE '{}'::jsonb END
      || CASE WHEN moved & 240 <> 0 THEN jsonb_build_object('actor', coalesce(rest -> 'actor', '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('id', CASE WHEN moved & 16 <> 0 THEN v[7] END, 'email', CASE WHEN moved & 32 <> 0 THEN v[8] END, 'ip', CASE WHEN moved & 64 <> 0 THEN v[9] END, 'type', CASE WHEN moved & 128 <> 0 THEN v[10] END))) ELSE '{}'::jsonb END
      || CASE WHEN moved & 1536 <> 0 THEN jsonb_build_object('resource', coalesce(rest -> 'resource', '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('type', CASE WHEN moved & 512 <> 0 THEN v[15] END, 'id', CASE WHEN moved & 1024 <> 0 THEN v[16] END))) ELSE '{}'::jsonb END
      || CASE WHEN moved & 6144 <> 0 THEN jsonb_build_object('metadata', coalesce(rest -> 'metadata', '{}'::jsonb) || jsonb_strip_nulls(jsonb_build_object('zone_id', CASE WHEN moved & 2048 <> 0 THEN v[19] END, 'zone_name', CASE WHEN moved & 4096 <> 0 THEN v[20] END))) ELSE '{}'::jsonb END
    END;
END;
$$;

--> statement-breakpoint
-- An interned key's reference, adding it if new. Two writers adding the same key: the second's
-- insert waits for the first and does nothing, then reads the first's row.
CREATE FUNCTION flarewatch_audit_intern(dict regclass, k jsonb) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE r integer;
BEGIN
	IF k IS NULL THEN RETURN NULL; END IF;
	EXECUTE format('SELECT ref FROM %s WHERE key = $1', dict) INTO r USING k;
	IF r IS NULL THEN
		EXECUTE format('INSERT INTO %s (key) VALUES ($1) ON CONFLICT (key) DO NOTHING RETURNING ref', dict) INTO r USING k;
	END IF;
	IF r IS NULL THEN
		EXECUTE format('SELECT ref FROM %s WHERE key = $1', dict) INTO r USING k;
	END IF;
	RETURN r;
END;
$$;
--> statement-breakpoint
-- Migrate: the views reading audit_logs go (recreated below over the new view), the old table and
-- its partitions are renamed aside, each month gets its new partition, the entries are copied in
-- (keys interned first, set-based) and the old table dropped.
DROP VIEW IF EXISTS "pending_invitations";
--> statement-breakpoint
DROP VIEW IF EXISTS "audit_events";
--> statement-breakpoint
DROP VIEW IF EXISTS "remediation_audit_links";
--> statement-breakpoint
DROP VIEW IF EXISTS "audit_v2_coverage";
--> statement-breakpoint
ALTER TABLE "audit_logs" RENAME TO "audit_logs_0022";
--> statement-breakpoint
DO $$
DECLARE part record;
BEGIN
	FOR part IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'audit_logs_0022'::regclass LOOP
		EXECUTE format('ALTER TABLE %I RENAME TO %I', part.relname, part.relname || '_0022');
	END LOOP;
END;
$$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION flarewatch_ensure_audit_partition(month date) RETURNS text
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
			'CREATE TABLE IF NOT EXISTS %I PARTITION OF audit_entries FOR VALUES FROM (%L) TO (%L)',
			part, lower_bound::text || ' 00:00:00+00', upper_bound::text || ' 00:00:00+00'
		);
	EXCEPTION WHEN duplicate_table OR unique_violation THEN
		NULL;
	END;
	RETURN part;
END;
$$;
--> statement-breakpoint
SELECT flarewatch_ensure_audit_partition(m) FROM (SELECT DISTINCT date_trunc('month', event_time AT TIME ZONE 'UTC')::date AS m FROM "audit_logs_0022") x;
--> statement-breakpoint
-- Each month's new partition too, for the months the old table had partitions (retention's view of them).
SELECT flarewatch_ensure_audit_partition(make_date(substring(c.relname FROM 'y(\d{4})m')::int, substring(c.relname FROM 'm(\d{2})_0022$')::int, 1))
FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
WHERE i.inhparent = 'audit_logs_0022'::regclass AND c.relname ~ '^audit_logs_y\d{4}m\d{2}_0022$';
--> statement-breakpoint
CREATE FUNCTION flarewatch_audit_account_key(account_id text, account_name text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN coalesce(account_id, account_name) IS NOT NULL THEN jsonb_build_array(account_id, account_name) END $$;
--> statement-breakpoint
CREATE FUNCTION flarewatch_audit_actor_key(id text, email text, ip text, type text, context text, token_id text, token_name text, user_agent text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN coalesce(id, email, ip, type, context, token_id, token_name, user_agent) IS NOT NULL
    THEN jsonb_build_array(id, email, ip, type, context, token_id, token_name, user_agent) END
$$;
--> statement-breakpoint
CREATE FUNCTION flarewatch_audit_action_key(type text, result text, description text, interface text, resource_type text, product text, scope text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN coalesce(type, result, description, interface, resource_type, product, scope) IS NOT NULL
    THEN jsonb_build_array(type, result, description, interface, resource_type, product, scope) END
$$;
--> statement-breakpoint
CREATE FUNCTION flarewatch_audit_zone_key(zone_id text, zone_name text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN coalesce(zone_id, zone_name) IS NOT NULL THEN jsonb_build_array(zone_id, zone_name) END $$;
--> statement-breakpoint
-- Write the rows of `audit_logs_stage` (a table shaped like audit_logs, in the caller's session):
-- keys interned set-based (in key order, so two writers lock new keys in the same order), then the
-- entries; an entry already archived (same source, id, event time) is left alone. Returns the rows written.
CREATE FUNCTION flarewatch_audit_insert_from(stage regclass) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
	EXECUTE format($q$
		INSERT INTO audit_accounts (key) SELECT DISTINCT flarewatch_audit_account_key(account_id, account_name) k FROM %1$s
		  WHERE flarewatch_audit_account_key(account_id, account_name) IS NOT NULL ORDER BY k ON CONFLICT (key) DO NOTHING;
		INSERT INTO audit_actors (key) SELECT DISTINCT flarewatch_audit_actor_key(actor_id, actor_email, actor_ip, actor_type, actor_context, actor_token_id, actor_token_name, raw #>> '{raw,user_agent}') k FROM %1$s
		  WHERE flarewatch_audit_actor_key(actor_id, actor_email, actor_ip, actor_type, actor_context, actor_token_id, actor_token_name, raw #>> '{raw,user_agent}') IS NOT NULL ORDER BY k ON CONFLICT (key) DO NOTHING;
		INSERT INTO audit_actions (key) SELECT DISTINCT flarewatch_audit_action_key(action_type, action_result, action_description, interface, resource_type, resource_product, resource_scope) k FROM %1$s
		  WHERE flarewatch_audit_action_key(action_type, action_result, action_description, interface, resource_type, resource_product, resource_scope) IS NOT NULL ORDER BY k ON CONFLICT (key) DO NOTHING;
		INSERT INTO audit_zones (key) SELECT DISTINCT flarewatch_audit_zone_key(zone_id, zone_name) k FROM %1$s
		  WHERE flarewatch_audit_zone_key(zone_id, zone_name) IS NOT NULL ORDER BY k ON CONFLICT (key) DO NOTHING$q$, stage);
	EXECUTE format($q$
		INSERT INTO audit_entries (event_time, archived_at, account_ref, actor_ref, action_ref, zone_ref, moved, source, id, resource_id, rest)
		SELECT s.event_time, coalesce(s.archived_at, now()), ac.ref, at.ref, an.ref, z.ref, r.moved, s.source, s.id, s.resource_id, r.rest
		FROM %1$s s
		LEFT JOIN audit_accounts ac ON ac.key = flarewatch_audit_account_key(s.account_id, s.account_name)
		LEFT JOIN audit_actors at ON at.key = flarewatch_audit_actor_key(s.actor_id, s.actor_email, s.actor_ip, s.actor_type, s.actor_context, s.actor_token_id, s.actor_token_name, s.raw #>> '{raw,user_agent}')
		LEFT JOIN audit_actions an ON an.key = flarewatch_audit_action_key(s.action_type, s.action_result, s.action_description, s.interface, s.resource_type, s.resource_product, s.resource_scope)
		LEFT JOIN audit_zones z ON z.key = flarewatch_audit_zone_key(s.zone_id, s.zone_name)
		CROSS JOIN LATERAL flarewatch_audit_rest(s.source, s.raw, s.event_time, ARRAY[s.id, s.account_id, s.account_name, s.action_type, s.action_result,
		  s.action_description, s.actor_id, s.actor_email, s.actor_ip, s.actor_type, s.actor_context, s.actor_token_id, s.actor_token_name,
		  s.interface, s.resource_type, s.resource_id, s.resource_product, s.resource_scope, s.zone_id, s.zone_name, s.raw #>> '{raw,user_agent}']) r
		ON CONFLICT DO NOTHING$q$, stage);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END;
$$;
--> statement-breakpoint
SELECT flarewatch_audit_insert_from('audit_logs_0022');
--> statement-breakpoint
DROP TABLE "audit_logs_0022";
--> statement-breakpoint
CREATE INDEX "audit_entries_account_time_idx" ON "audit_entries" ("account_ref", "event_time");
--> statement-breakpoint
-- One index for the actor's id and e-mail: the actor table finds the references, this their entries.
CREATE INDEX "audit_entries_actor_time_idx" ON "audit_entries" ("actor_ref", "event_time");
--> statement-breakpoint
CREATE INDEX "audit_entries_resource_idx" ON "audit_entries" ("resource_id");
--> statement-breakpoint
-- 0022's subject-email index, on what the entry keeps of its JSON (these paths are never moved).
CREATE INDEX "audit_entries_subject_email_idx" ON "audit_entries" ("account_ref",
  lower(coalesce("rest" #>> '{resource,request,email}', "rest" #>> '{newValueJson,email}', "rest" #>> '{metadata,email}')))
  WHERE lower(coalesce("rest" #>> '{resource,request,email}', "rest" #>> '{newValueJson,email}', "rest" #>> '{metadata,email}')) IS NOT NULL;
--> statement-breakpoint
CREATE VIEW "audit_logs" AS
SELECT s.source, s.id, s.event_time,
  ac.key ->> 0 AS account_id, ac.key ->> 1 AS account_name,
  an.key ->> 0 AS action_type, an.key ->> 1 AS action_result, an.key ->> 2 AS action_description,
  at.key ->> 0 AS actor_id, at.key ->> 1 AS actor_email, at.key ->> 2 AS actor_ip, at.key ->> 3 AS actor_type,
  at.key ->> 4 AS actor_context, at.key ->> 5 AS actor_token_id, at.key ->> 6 AS actor_token_name,
  an.key ->> 3 AS interface, an.key ->> 4 AS resource_type, s.resource_id, an.key ->> 5 AS resource_product, an.key ->> 6 AS resource_scope,
  z.key ->> 0 AS zone_id, z.key ->> 1 AS zone_name,
  flarewatch_audit_raw(s.source, s.moved, s.rest, s.event_time, ARRAY[s.id, ac.key ->> 0, ac.key ->> 1, an.key ->> 0, an.key ->> 1, an.key ->> 2,
    at.key ->> 0, at.key ->> 1, at.key ->> 2, at.key ->> 3, at.key ->> 4, at.key ->> 5, at.key ->> 6,
    an.key ->> 3, an.key ->> 4, s.resource_id, an.key ->> 5, an.key ->> 6, z.key ->> 0, z.key ->> 1, at.key ->> 7]) AS raw,
  s.archived_at,
  lower(coalesce(s.rest #>> '{resource,request,email}', s.rest #>> '{newValueJson,email}', s.rest #>> '{metadata,email}')) AS subject_email
FROM audit_entries s
LEFT JOIN audit_accounts ac ON ac.ref = s.account_ref
LEFT JOIN audit_actors at ON at.ref = s.actor_ref
LEFT JOIN audit_actions an ON an.ref = s.action_ref
LEFT JOIN audit_zones z ON z.ref = s.zone_ref;
--> statement-breakpoint
-- One row at a time (tests, tools, `audit import`): interned and written like a staged page.
CREATE FUNCTION flarewatch_audit_logs_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE r record;
BEGIN
	r := flarewatch_audit_rest(NEW.source, NEW.raw, NEW.event_time, ARRAY[NEW.id, NEW.account_id, NEW.account_name, NEW.action_type,
		NEW.action_result, NEW.action_description, NEW.actor_id, NEW.actor_email, NEW.actor_ip, NEW.actor_type, NEW.actor_context,
		NEW.actor_token_id, NEW.actor_token_name, NEW.interface, NEW.resource_type, NEW.resource_id, NEW.resource_product,
		NEW.resource_scope, NEW.zone_id, NEW.zone_name, NEW.raw #>> '{raw,user_agent}']);
	INSERT INTO audit_entries (event_time, archived_at, account_ref, actor_ref, action_ref, zone_ref, moved, source, id, resource_id, rest)
	VALUES (NEW.event_time, coalesce(NEW.archived_at, now()),
		flarewatch_audit_intern('audit_accounts', flarewatch_audit_account_key(NEW.account_id, NEW.account_name)),
		flarewatch_audit_intern('audit_actors', flarewatch_audit_actor_key(NEW.actor_id, NEW.actor_email, NEW.actor_ip, NEW.actor_type,
			NEW.actor_context, NEW.actor_token_id, NEW.actor_token_name, NEW.raw #>> '{raw,user_agent}')),
		flarewatch_audit_intern('audit_actions', flarewatch_audit_action_key(NEW.action_type, NEW.action_result, NEW.action_description,
			NEW.interface, NEW.resource_type, NEW.resource_product, NEW.resource_scope)),
		flarewatch_audit_intern('audit_zones', flarewatch_audit_zone_key(NEW.zone_id, NEW.zone_name)),
		r.moved, NEW.source, NEW.id, NEW.resource_id, r.rest)
	ON CONFLICT DO NOTHING;
	IF FOUND THEN RETURN NEW; END IF;
	RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "audit_logs_insert" INSTEAD OF INSERT ON "audit_logs" FOR EACH ROW EXECUTE FUNCTION flarewatch_audit_logs_insert();
--> statement-breakpoint
-- A row deleted through the view (tests making a gap, a tool) deletes the stored entry.
CREATE FUNCTION flarewatch_audit_logs_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM audit_entries WHERE source = OLD.source AND id = OLD.id AND event_time = OLD.event_time;
	IF FOUND THEN RETURN OLD; END IF;
	RETURN NULL;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "audit_logs_delete" INSTEAD OF DELETE ON "audit_logs" FOR EACH ROW EXECUTE FUNCTION flarewatch_audit_logs_delete();
--> statement-breakpoint
-- The distinct resource types: the action table holds each once (a type whose entries retention
-- dropped may stay listed; readers use the list to filter, so an extra type finds nothing).
CREATE OR REPLACE FUNCTION flarewatch_audit_resource_types() RETURNS SETOF text
LANGUAGE sql STABLE AS $$ SELECT DISTINCT key ->> 4 FROM audit_actions WHERE key ->> 4 IS NOT NULL $$;
--> statement-breakpoint
-- The views 0012, 0019, 0020 and 0022 made over audit_logs, as they were (pending_invitations reads
-- the subject e-mail from the view's column, which the subject-email index answers).
CREATE VIEW "audit_events" AS
SELECT
  a.*,
  ARRAY(
    SELECT s.source FROM (VALUES ('account_v2', 0), ('account_v1', 1), ('user_v1', 2)) AS s(source, rank)
    WHERE s.source = a.source OR EXISTS (
      SELECT 1 FROM audit_logs d
      WHERE d.source = s.source AND (
        (d.source <> 'account_v2' AND a.source <> 'account_v2' AND d.id = a.id AND d.event_time = a.event_time)
        OR ((d.source = 'account_v2') <> (a.source = 'account_v2')
          AND d.event_time BETWEEN a.event_time - interval '1 second' AND a.event_time + interval '1 second'
          AND d.resource_id = a.resource_id
          AND (d.actor_email = a.actor_email OR ((d.actor_email IS NULL OR a.actor_email IS NULL) AND d.actor_id = a.actor_id))
          AND d.action_result IS NOT DISTINCT FROM a.action_result
          AND (d.source = 'user_v1' OR a.source = 'user_v1' OR d.account_id = a.account_id))))
    ORDER BY s.rank
  ) AS sources
FROM audit_logs a
WHERE NOT (
  (a.source = 'user_v1' AND EXISTS (
    SELECT 1 FROM audit_logs d WHERE d.source = 'account_v1' AND d.id = a.id AND d.event_time = a.event_time))
  OR (a.source <> 'account_v2' AND a.resource_id IS NOT NULL AND EXISTS (
    SELECT 1 FROM audit_logs d
    WHERE d.source = 'account_v2'
      AND d.event_time BETWEEN a.event_time - interval '1 second' AND a.event_time + interval '1 second'
      AND d.resource_id = a.resource_id
      AND (d.actor_email = a.actor_email OR ((d.actor_email IS NULL OR a.actor_email IS NULL) AND d.actor_id = a.actor_id))
      AND d.action_result IS NOT DISTINCT FROM a.action_result
      AND (a.source = 'user_v1' OR d.account_id = a.account_id)))
);
--> statement-breakpoint
CREATE VIEW "pending_invitations" AS
WITH pending AS (
  SELECT m.id, m.account_id, m.email, m.role_names, seen.at
  FROM account_members m
  CROSS JOIN LATERAL (
    SELECT coalesce((
      SELECT min(v.valid_from) FROM account_member_versions v
      WHERE v.member_id = m.id AND v.status = 'pending'
        AND v.valid_from >= coalesce((SELECT max(x.valid_to) FROM account_member_versions x
                                      WHERE x.member_id = m.id AND x.status IS DISTINCT FROM 'pending'), '-infinity')
    ), m.first_seen_at) AS at
  ) seen
  WHERE m.deleted_at IS NULL AND m.status = 'pending'
),
member_types AS (
  SELECT ARRAY(SELECT t FROM flarewatch_audit_resource_types() t WHERE t ILIKE '%member%') AS types
),
-- Each pending member's invitation events, looked up twice through indexes: by member id
-- (audit_entries_resource_idx) and by the email the event names in the account (audit_entries_subject_email_idx).
matched AS (
  SELECT p.account_id, p.id AS member_id, p.at, e.source, e.id AS event_id, e.event_time, e.actor_email
  FROM pending p CROSS JOIN member_types mt
  CROSS JOIN LATERAL (
    SELECT e.source, e.id, e.event_time, e.actor_email FROM audit_events e
    WHERE e.resource_type = ANY (mt.types) AND e.resource_id = p.id
      AND lower(coalesce(e.action_type, '')) ~ '(create|add|invite)' AND coalesce(e.action_result, 'success') <> 'failure'
  ) e
  UNION ALL
  SELECT p.account_id, p.id, p.at, e.source, e.id, e.event_time, e.actor_email
  FROM pending p CROSS JOIN member_types mt
  CROSS JOIN LATERAL (
    SELECT e.source, e.id, e.event_time, e.actor_email FROM audit_events e
    WHERE e.resource_type = ANY (mt.types) AND e.account_id = p.account_id
      AND e.subject_email = lower(p.email)
      AND lower(coalesce(e.action_type, '')) ~ '(create|add|invite)' AND coalesce(e.action_result, 'success') <> 'failure'
  ) e
),
latest AS (
  SELECT DISTINCT ON (x.account_id, x.member_id) x.account_id, x.member_id, x.source, x.event_id, x.event_time, x.actor_email
  FROM matched x
  WHERE x.event_time <= x.at + interval '5 minutes'
  ORDER BY x.account_id, x.member_id, x.event_time DESC, x.source, x.event_id
)
SELECT
  'invite:' || i.id AS key, 'invite'::text AS type, i.id, i.organization_id AS account_id, i.organization_name AS name,
  i.invited_member_email AS email, i.invited_by, i.roles, i.expires_on, i.first_seen_at,
  coalesce(i.invited_on, i.first_seen_at) AS since,
  CASE WHEN i.invited_on IS NULL THEN 'first_seen_at' ELSE 'invited_on' END AS since_source,
  NULL::text AS invite_event
FROM user_invites i
WHERE i.deleted_at IS NULL AND i.status = 'pending'
UNION ALL
SELECT
  'member:' || p.account_id || ':' || p.id, 'member', p.id, p.account_id, p.email,
  p.email, ev.actor_email, p.role_names, NULL::timestamptz, p.at,
  coalesce(ev.event_time, p.at),
  CASE WHEN ev.event_time IS NULL THEN 'first_seen_at' ELSE 'audit_log' END,
  ev.source || ':' || ev.event_id
FROM pending p
LEFT JOIN latest ev ON ev.account_id = p.account_id AND ev.member_id = p.id;
--> statement-breakpoint
CREATE VIEW remediation_audit_links AS
SELECT t.action_id, t.id AS attempt_id, t.phase, l.source, l.id AS audit_id, l.event_time, l.action_type,
       l.actor_token_id, l.resource_id
FROM remediation_attempts t
JOIN remediation_actions a ON a.id = t.action_id
JOIN audit_logs l ON l.resource_id = a.resource_id
  AND l.event_time >= t.started_at - interval '1 minute' AND l.event_time < t.started_at + interval '1 hour'
  AND (t.credential_token_id IS NULL OR l.actor_token_id IS NULL OR l.actor_token_id = t.credential_token_id)
  AND l.action_type IN ('update', 'delete', 'remove');
--> statement-breakpoint
CREATE VIEW "audit_v2_coverage" AS
SELECT
  substr(s.stream, length('account-audit:') + 1) AS account_id,
  s.stream,
  CASE WHEN s.checkpoint ->> 'from' IS NOT NULL
    THEN greatest((s.checkpoint ->> 'from')::timestamptz, (
      SELECT min(make_timestamptz(substring(c.relname FROM 'y(\d{4})m')::int, substring(c.relname FROM 'm(\d{2})$')::int, 1, 0, 0, 0, 'UTC'))
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'audit_entries'::regclass AND c.relname ~ '^audit_logs_y\d{4}m\d{2}$'))
    ELSE (SELECT min(a.event_time) FROM audit_logs a WHERE a.account_id = substr(s.stream, length('account-audit:') + 1) AND a.source = 'account_v2')
  END AS covered_from,
  CASE WHEN s.checkpoint ->> 'from' IS NOT NULL THEN 'walk_start' ELSE 'first_entry' END AS covered_from_source,
  (s.checkpoint ->> 'watermark')::timestamptz AS covered_to,
  ARRAY(SELECT v.day FROM audit_verifications v WHERE v.stream = s.stream AND v.status = 'gap' ORDER BY v.day) AS gap_days
FROM sync_state s
WHERE s.stream LIKE 'account-audit:%';
--> statement-breakpoint
-- access_used as 0020 made it, but the request path of an unmapped write is read from the stored JSON
-- (raw.uri is never moved out of it), by key, only for the entries it folds: through the view's
-- `raw` every entry of the window was rebuilt (5× the time at 300k entries).
CREATE OR REPLACE FUNCTION access_used(days int, as_of timestamptz DEFAULT now())
RETURNS TABLE (principal_type text, principal_id text, principal_name text, account_id text, permission_group text,
               writes bigint, first_used_at timestamptz, last_used_at timestamptz, actions text[])
LANGUAGE sql STABLE AS $$
  WITH entries AS NOT MATERIALIZED (
    SELECT a.event_time, a.account_id, a.actor_token_name, a.actor_token_id, a.actor_email, a.resource_product, a.resource_type, a.action_type, a.source, a.id,
           CASE WHEN a.actor_token_id IS NOT NULL THEN 'token' ELSE 'member' END AS kind, coalesce(a.actor_token_id, a.actor_id) AS who
    FROM audit_logs a
    WHERE a.source = 'account_v2'
      AND a.event_time > as_of - make_interval(days => days) AND a.event_time <= as_of
      AND (a.actor_token_id IS NOT NULL OR (a.actor_id IS NOT NULL AND coalesce(a.actor_type, 'user') = 'user'))
      AND lower(a.action_type) NOT IN ('view', 'read', 'get', 'list', 'login', 'logout')
  ), combos AS MATERIALIZED (
    -- Each kind of write in the window, with the groups the name rows give it (names normalised once per kind).
    SELECT c.*, ARRAY(SELECT DISTINCT x FROM audit_permission_map p, unnest(p.permission_groups) x
                      WHERE p.uri_pattern IS NULL
                        AND (p.product IS NULL OR p.product = c.product)
                        AND (p.resource_type IS NULL OR p.resource_type = c.rtype)
                        AND (p.action_types IS NULL OR c.action = ANY (p.action_types))) AS groups
    FROM (SELECT k.*, flarewatch_audit_norm(k.raw_product) AS product, flarewatch_audit_norm(k.raw_type) AS rtype
          FROM (SELECT DISTINCT coalesce(e.resource_product, '') AS raw_product, coalesce(e.resource_type, '') AS raw_type, lower(e.action_type) AS action
                FROM entries e) k) c
  ), g AS (
    -- Per principal and kind of write; the request path only for kinds no name row maps.
    SELECT e.kind, e.who, max(CASE WHEN e.kind = 'token' THEN coalesce(e.actor_token_name, e.actor_token_id) ELSE e.actor_email END) AS name,
           e.account_id, c.product, c.rtype, c.action, c.groups,
           CASE WHEN cardinality(c.groups) = 0 THEN flarewatch_audit_uri((SELECT x.rest #>> '{raw,uri}' FROM audit_entries x WHERE x.event_time = e.event_time AND x.source = e.source AND x.id = e.id)) END AS uri,
           count(*) AS writes, min(e.event_time) AS first_at, max(e.event_time) AS last_at
    FROM entries e
    JOIN combos c ON c.raw_product = coalesce(e.resource_product, '') AND c.raw_type = coalesce(e.resource_type, '') AND c.action = lower(e.action_type)
    GROUP BY e.kind, e.who, e.account_id, c.product, c.rtype, c.action, c.groups, 9
  ), mapped AS (
    SELECT g.kind, g.who, g.name, g.account_id, g.product, g.rtype, g.action, g.writes, g.first_at, g.last_at, x AS permission_group
    FROM g, unnest(g.groups) x
    UNION ALL
    SELECT g.kind, g.who, g.name, g.account_id, g.product, g.rtype, g.action, g.writes, g.first_at, g.last_at, m.name
    FROM g
    LEFT JOIN LATERAL (
      SELECT DISTINCT x AS name FROM audit_permission_map p, unnest(p.permission_groups) x
      WHERE p.uri_pattern IS NOT NULL AND g.uri ~ p.uri_pattern
        AND (p.product IS NULL OR p.product = g.product)
        AND (p.resource_type IS NULL OR p.resource_type = g.rtype)
        AND (p.action_types IS NULL OR g.action = ANY (p.action_types))
    ) m ON true
    WHERE cardinality(g.groups) = 0
  )
  SELECT m.kind, m.who, max(m.name), m.account_id, m.permission_group, sum(m.writes)::bigint, min(m.first_at), max(m.last_at),
         array_agg(DISTINCT concat_ws('/', coalesce(m.product, '?'), coalesce(m.rtype, '?'), m.action) ORDER BY concat_ws('/', coalesce(m.product, '?'), coalesce(m.rtype, '?'), m.action))
  FROM mapped m
  GROUP BY m.kind, m.who, m.account_id, m.permission_group
$$;
