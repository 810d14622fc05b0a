-- Custom migration (issue 22, item 1): a check in which nothing changed writes no rule_states row.
-- Before, every successful check rewrote each rule's last_checked_at (~25 rows a round) because an
-- open state finding's "last seen" is its rule's last successful check (0013). Now the row is
-- written only when the rule's record breaks or resumes: `checked_every_run` says the rule has
-- succeeded in every finished check run since last_checked_at, so its last successful check is
-- the latest finished check run's start (check runs run one at a time; a run clears the flag of
-- every rule it did not succeed in before it is marked finished, folding that run's predecessor
-- into last_checked_at). Existing rows start cleared: each rule's row is written once more.
ALTER TABLE "rule_states" ADD COLUMN "checked_every_run" boolean DEFAULT false NOT NULL;
--> statement-breakpoint
-- A rule's last successful check (finished runs only: a run in progress or one that died is not one).
CREATE FUNCTION rule_last_checked(r rule_states) RETURNS timestamp with time zone
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN r.checked_every_run
              THEN greatest(r.last_checked_at, (SELECT c.started_at FROM check_runs c WHERE c.finished_at IS NOT NULL ORDER BY c.id DESC LIMIT 1))
              ELSE r.last_checked_at END
$$;
--> statement-breakpoint
-- rule_last_checked() written out, not called: it runs once per finding read (the open_findings
-- view, exports), and a nested SQL function call cost ~5x the old definition over 200k findings;
-- written out, ~1.4x (2.0–2.8 s → 3.0–3.9 s for 200k open findings on a loaded 2-core machine).
CREATE OR REPLACE FUNCTION finding_last_seen(f findings) RETURNS timestamp with time zone
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN f.kind = 'state' AND f.status = 'open'
              THEN greatest(f.last_seen_at, (
                SELECT CASE WHEN r.checked_every_run
                            THEN greatest(r.last_checked_at, (SELECT c.started_at FROM check_runs c WHERE c.finished_at IS NOT NULL ORDER BY c.id DESC LIMIT 1))
                            ELSE r.last_checked_at END
                FROM rule_states r WHERE r.rule_id = f.rule_id))
              ELSE f.last_seen_at END
$$;
