ALTER TABLE "review_decisions" ADD COLUMN "chain_seq" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "review_decisions" ADD COLUMN "prev_hash" text DEFAULT '' NOT NULL;--> statement-breakpoint
ALTER TABLE "review_decisions" ADD COLUMN "row_hash" text DEFAULT '' NOT NULL;--> statement-breakpoint
-- Custom SQL. Review decisions form one hash chain per review: each row carries the hash of the
-- row before it, and its own hash is sha256 of the canonical JSON of its fields (keys sorted, no
-- spaces; src/review/chain.ts computes the same text, and `review verify` checks it offline).
-- Editing a row breaks the chain at that row; an edit that recomputes the chain is exposed by the
-- chain head an earlier exported, signed pack recorded.
CREATE FUNCTION flarewatch_review_decision_canonical(d review_decisions) RETURNS text
LANGUAGE sql STABLE AS $$
  SELECT '{"at":' || to_json(to_char(d.decided_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text
    || ',"by":' || to_json(d.decided_by)::text
    || ',"decision":' || to_json(d.decision)::text
    || ',"id":' || d.id::text
    || ',"item_key":' || to_json(d.item_key)::text
    || ',"note":' || coalesce(to_json(d.note)::text, 'null')
    || ',"prev":' || to_json(d.prev_hash)::text
    || ',"review_id":' || d.review_id::text
    || ',"seq":' || d.chain_seq::text || '}'
$$;
--> statement-breakpoint
CREATE FUNCTION flarewatch_review_decision_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  last record;
BEGIN
  -- One writer per review at a time, so two reviewers' decisions never fork the chain.
  PERFORM 1 FROM reviews WHERE id = NEW.review_id FOR UPDATE;
  SELECT chain_seq, row_hash INTO last FROM review_decisions WHERE review_id = NEW.review_id ORDER BY chain_seq DESC LIMIT 1;
  -- JavaScript dates hold milliseconds: the hashed time is the time every reader gets back.
  NEW.decided_at := date_trunc('milliseconds', NEW.decided_at);
  NEW.chain_seq := coalesce(last.chain_seq, 0) + 1;
  NEW.prev_hash := coalesce(last.row_hash, repeat('0', 64));
  NEW.row_hash := encode(sha256(convert_to(flarewatch_review_decision_canonical(NEW), 'UTF8')), 'hex');
  RETURN NEW;
END
$$;
--> statement-breakpoint
-- Decisions recorded before this migration join the chain in the order they were recorded.
ALTER TABLE review_decisions DISABLE TRIGGER review_decisions_append_only;
--> statement-breakpoint
DO $$
DECLARE
  d review_decisions;
  prev text;
  seq integer;
  cur integer := NULL;
BEGIN
  FOR d IN SELECT * FROM review_decisions ORDER BY review_id, id LOOP
    IF cur IS DISTINCT FROM d.review_id THEN
      cur := d.review_id; seq := 0; prev := repeat('0', 64);
    END IF;
    seq := seq + 1;
    d.decided_at := date_trunc('milliseconds', d.decided_at);
    d.chain_seq := seq;
    d.prev_hash := prev;
    d.row_hash := encode(sha256(convert_to(flarewatch_review_decision_canonical(d), 'UTF8')), 'hex');
    UPDATE review_decisions SET decided_at = d.decided_at, chain_seq = d.chain_seq, prev_hash = d.prev_hash, row_hash = d.row_hash WHERE id = d.id;
    prev := d.row_hash;
  END LOOP;
END
$$;
--> statement-breakpoint
ALTER TABLE review_decisions ENABLE TRIGGER review_decisions_append_only;
--> statement-breakpoint
CREATE TRIGGER review_decisions_chain BEFORE INSERT ON review_decisions FOR EACH ROW EXECUTE FUNCTION flarewatch_review_decision_chain();
--> statement-breakpoint
CREATE UNIQUE INDEX "review_decisions_chain_idx" ON "review_decisions" USING btree ("review_id","chain_seq");
