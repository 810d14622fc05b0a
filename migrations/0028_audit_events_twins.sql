-- audit_events looked for each entry's twins (the same event in another log) with subqueries over
-- audit_logs written inside the view. Every such subquery is planned over every month partition,
-- and the view holds three of them inside its scan of every partition: planning grew with the
-- square of the months kept (a 5-year archive: ~12,000 plan nodes, several hundred ms before a
-- query about one member ran). The twin test now lives in a PL/pgSQL function: its statement is
-- planned once per session and pruned to the entry's month when it runs, so a query over the view
-- plans one scan per partition, as a query over audit_logs does. The view's rows are unchanged.
CREATE OR REPLACE FUNCTION flarewatch_audit_twin(
  want text, a_source text, a_id text, a_time timestamptz, a_resource text,
  a_actor_email text, a_actor_id text, a_result text, a_account text
) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
BEGIN
  IF want <> 'account_v2' AND a_source <> 'account_v2' THEN
    -- The user and account v1 logs give an event the same id.
    RETURN EXISTS (SELECT 1 FROM audit_logs d WHERE d.source = want AND d.id = a_id AND d.event_time = a_time);
  ELSIF (want = 'account_v2') <> (a_source = 'account_v2') THEN
    -- v1 and v2 ids differ: the same resource, actor and result within a second.
    RETURN EXISTS (
      SELECT 1 FROM audit_logs d
      WHERE d.source = want
        AND d.event_time BETWEEN a_time - interval '1 second' AND a_time + interval '1 second'
        AND d.resource_id = a_resource
        AND (d.actor_email = a_actor_email OR ((d.actor_email IS NULL OR a_actor_email IS NULL) AND d.actor_id = a_actor_id))
        AND d.action_result IS NOT DISTINCT FROM a_result
        AND (want = 'user_v1' OR a_source = 'user_v1' OR d.account_id = a_account));
  END IF;
  RETURN false;
END $$;
--> statement-breakpoint
CREATE OR REPLACE VIEW "audit_events" AS
SELECT
  a.*,
  ARRAY(
    SELECT s.source FROM (VALUES ('account_v2', 0), ('account_v1', 1), ('user_v1', 2)) AS s(source, rank)
    WHERE s.source = a.source
       OR flarewatch_audit_twin(s.source, a.source, a.id, a.event_time, a.resource_id, a.actor_email, a.actor_id, a.action_result, a.account_id)
    ORDER BY s.rank
  ) AS sources
FROM audit_logs a
WHERE NOT (
  (a.source = 'user_v1'
    AND flarewatch_audit_twin('account_v1', a.source, a.id, a.event_time, a.resource_id, a.actor_email, a.actor_id, a.action_result, a.account_id))
  OR (a.source <> 'account_v2' AND a.resource_id IS NOT NULL
    AND flarewatch_audit_twin('account_v2', a.source, a.id, a.event_time, a.resource_id, a.actor_email, a.actor_id, a.action_result, a.account_id))
);
