-- Custom migration (issue 12): data for the columns 0006 added, stable member keys, the
-- first-check record of rules that already ran here, and open_findings with the finding kind.

-- Audit-log rules now produce detections. Their old per-entry findings (resource keys
-- 'audit:<source>:<id>') are retired by the rules themselves at the next check, through the
-- outbox, so incidents they opened are resolved.
UPDATE findings SET kind = 'detection'
WHERE rule_id IN ('audit-token-broad-grant', 'audit-admin-member-added', 'audit-ip-not-allowed', 'audit-failed-login-burst');
--> statement-breakpoint

-- Every earlier resolution was a rule no longer returning the resource.
UPDATE findings SET resolution_reason = 'no longer detected' WHERE status = 'resolved' AND resolution_reason IS NULL;
--> statement-breakpoint
UPDATE finding_events SET reason = 'no longer detected' WHERE transition = 'resolved' AND reason IS NULL;
--> statement-breakpoint

-- Member findings key on account and member ('member:<account>:<member id>', as documented).
-- The fingerprint is sha256(rule id, NUL, resource key), as src/findings/fingerprint.ts computes
-- it, so the next check finds these rows and nothing is opened (or alerted) again. Alerts keep
-- the old fingerprint: an episode's follow-ups reuse the one it started under (PagerDuty dedup_key).
UPDATE findings f SET resource_key = n.key, fingerprint = n.fp
FROM (
  SELECT id, k.key, encode(sha256(convert_to(rule_id, 'UTF8') || '\x00'::bytea || convert_to(k.key, 'UTF8')), 'hex') AS fp
  FROM findings
  CROSS JOIN LATERAL (SELECT 'member:' || account_id || ':' || substr(resource_key, 8) AS key) k
  WHERE rule_id IN ('member-no-2fa', 'member-no-roles', 'invite-pending', 'invite-stale', 'invite-2fa-mismatch')
    AND resource_key ~ '^member:[^:]+$' AND account_id IS NOT NULL
) n
WHERE f.id = n.id AND NOT EXISTS (SELECT 1 FROM findings g WHERE g.fingerprint = n.fp);
--> statement-breakpoint

-- Rules that already ran on this database are not new: their next check is not a baseline.
-- The audit-log rules are left out on purpose: their findings change shape (grouped detections),
-- so their first check after the upgrade records the current detections without alerting them again.
INSERT INTO rule_states (rule_id, kind, status, first_checked_at, last_checked_at, status_changed_at)
SELECT rule_id, 'state', 'active', min(first_seen_at), max(last_seen_at), min(first_seen_at)
FROM findings
WHERE kind = 'state'
GROUP BY rule_id
ON CONFLICT (rule_id) DO NOTHING;
--> statement-breakpoint
INSERT INTO rule_states (rule_id, kind, status, first_checked_at, last_checked_at, status_changed_at)
SELECT r.id, 'state', 'active', c.first, c.last, c.first
FROM unnest(ARRAY[
  'token-broad-policy', 'token-expiring', 'token-expired-present', 'token-no-expiry', 'token-no-ip-restriction',
  'token-unused', 'token-never-used', 'token-not-rotated', 'token-misconfigured', 'member-no-2fa',
  'account-2fa-not-enforced', 'too-many-super-admins', 'member-no-roles', 'invite-pending', 'invite-stale', 'invite-2fa-mismatch'
]) AS r(id)
CROSS JOIN (SELECT min(started_at) AS first, max(started_at) AS last FROM check_runs WHERE finished_at IS NOT NULL) c
WHERE c.first IS NOT NULL
ON CONFLICT (rule_id) DO NOTHING;
--> statement-breakpoint

-- The kind and a detection's latest event, appended (CREATE OR REPLACE keeps the grants).
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
  last_seen_at,
  reopened_count,
  facts,
  kind,
  last_event_at
FROM findings
WHERE status = 'open' AND NOT suppressed
ORDER BY array_position(ARRAY['info', 'low', 'medium', 'high', 'critical']::text[], severity) DESC, rule_id, resource_key;
