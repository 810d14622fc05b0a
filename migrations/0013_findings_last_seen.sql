-- Custom migration (issue 14): check runs no longer rewrite a finding they return unchanged.
-- An open state finding was returned by every successful check of its rule since it opened
-- (otherwise it would be resolved), so when it was last seen is its rule's last check
-- (rule_states.last_checked_at); the row's own last_seen_at moves only when the row is written
-- (opened, changed, reopened, resolved). finding_last_seen(f) is the one definition of "last
-- seen" every view and command shows: select finding_last_seen(f) from findings f.
CREATE FUNCTION finding_last_seen(f findings) RETURNS timestamp with time zone
LANGUAGE sql STABLE AS $$
  SELECT CASE WHEN f.kind = 'state' AND f.status = 'open'
              THEN greatest(f.last_seen_at, (SELECT r.last_checked_at FROM rule_states r WHERE r.rule_id = f.rule_id))
              ELSE f.last_seen_at END
$$;
--> statement-breakpoint
CREATE OR REPLACE VIEW "open_findings" AS
SELECT
  id AS finding_id,
  severity,
  rule_id,
  title,
  resource_type,
  resource_key,
  resource_name,
  account_id,
  first_seen_at,
  finding_last_seen(findings) AS last_seen_at,
  reopened_count,
  facts,
  kind,
  last_event_at
FROM findings
WHERE status = 'open' AND NOT suppressed
ORDER BY array_position(ARRAY['info', 'low', 'medium', 'high', 'critical']::text[], severity) DESC, rule_id, resource_key;
