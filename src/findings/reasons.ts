// Why a finding was resolved (or its alert episode closed): one vocabulary, recorded in
// findings.resolution_reason and finding_events.reason, and read by the alerts stage to
// decide who hears about it.

export const REASONS = {
  /** A state rule no longer returns the resource: it was fixed. */
  gone: 'no longer detected',
  acknowledged: 'acknowledged',
  suppressed: 'suppressed',
  ruleDisabled: 'rule disabled',
  ruleRemoved: 'rule removed',
  /** A detection key the rule no longer produces (the per-entry audit findings before grouping). */
  retired: 'replaced by grouped detections',
} as const;

/** The resource vanished with its account: the sync layer's words for why (e.g. "account removed from /accounts"). */
export const accountGone = (accountId: string, why: string | null | undefined) => `account ${accountId} ${why?.trim() || 'deleted'}`;

/**
 * fixed: the problem went away; acknowledged / suppressed: a person closed it; administrative:
 * flarewatch stopped looking (rule disabled or removed, account gone, key retired).
 */
export type ResolutionCategory = 'fixed' | 'acknowledged' | 'suppressed' | 'administrative';

export function categoryOf(reason: string | null | undefined): ResolutionCategory {
  if (!reason || reason === REASONS.gone) return 'fixed';
  if (reason === REASONS.acknowledged) return 'acknowledged';
  if (reason === REASONS.suppressed) return 'suppressed';
  return 'administrative';
}
