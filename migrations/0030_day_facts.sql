-- Custom migration (issue 22, item 1): a fact that counts days from now (a token's age_days,
-- days_unused, days_left, days_since_expiry; an invitation's age_days) no longer rewrites its
-- finding when only the day turned. The check compares such a fact by its date (another fact of
-- the same finding), so the stored count is the one of the day the finding was last written;
-- readers count again from the date. rule_states.day_facts says which facts of a rule are day
-- counts and which fact holds each one's date: {"age_days": {"since": "age_since"}} (days from the
-- date to now) or {"days_left": {"until": "expires_on"}} (days from now to the date).
ALTER TABLE "rule_states" ADD COLUMN "day_facts" jsonb DEFAULT '{}'::jsonb NOT NULL;
--> statement-breakpoint
-- `facts` of a finding of `rule` with every day count counted at `at`, as the rule counts it:
-- whole days between the instants in milliseconds, rounded down (src/rules/sql.ts ageDaysSql).
-- A count whose date fact is missing or null stays as stored.
CREATE FUNCTION facts_at(rule text, facts jsonb, at timestamp with time zone) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT coalesce(facts || (
    SELECT jsonb_object_agg(d.key, floor(
             CASE WHEN d.value ? 'until'
                  THEN floor(extract(epoch FROM (facts ->> (d.value ->> 'until'))::timestamptz) * 1000) - floor(extract(epoch FROM at) * 1000)
                  ELSE floor(extract(epoch FROM at) * 1000) - floor(extract(epoch FROM (facts ->> (d.value ->> 'since'))::timestamptz) * 1000) END
             / 86400000)::int)
    FROM rule_states r CROSS JOIN jsonb_each(r.day_facts) d
    WHERE r.rule_id = rule AND facts ? d.key
      AND jsonb_typeof(facts -> coalesce(d.value ->> 'until', d.value ->> 'since')) = 'string'), facts)
$$;
--> statement-breakpoint
-- A finding's facts as every reader shows them: day counts counted now (`at`), or, for a resolved
-- finding, when it was resolved. The one definition: select finding_facts(f) from findings f.
CREATE FUNCTION finding_facts(f findings, at timestamp with time zone DEFAULT now()) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT facts_at(f.rule_id, f.facts, CASE WHEN f.status = 'resolved' THEN least(at, f.resolved_at) ELSE at END)
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
  finding_facts(findings) AS facts,
  kind,
  last_event_at
FROM findings
WHERE status = 'open' AND NOT suppressed
ORDER BY array_position(ARRAY['info', 'low', 'medium', 'high', 'critical']::text[], severity) DESC, rule_id, resource_key;
