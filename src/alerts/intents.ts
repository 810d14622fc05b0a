// What each finding transition asks of the outbox, who hears a resolution, and which
// transitions a baseline keeps quiet. Pure: the outbox applies these with the episode it reads.
import type { Transition } from '../findings/apply.js';
import { categoryOf, REASONS } from '../findings/reasons.js';
import type { TransitionMeta } from '../rules/rule-run.js';
import { severityRank } from '../rules/types.js';
import type { SinkKind } from '../config/sinks.js';
import type { AlertResolution } from './types.js';

export type IntentKind = 'opened' | 'severity_raised' | 'resolved';

export interface Intent {
  kind: IntentKind;
  resolution?: AlertResolution;
}

const resolutionOf = (t: Transition, reason: string): AlertResolution => ({ reason, category: categoryOf(reason), by: t.by, note: t.note });

/**
 * opened / reopened / unsuppressed start an episode (unless suppressed), a raise continues or
 * starts one, a resolution ends it, and so does a suppression (the finding stays open, flagged,
 * but incidents about it close). Everything else is history only.
 */
export function intentFor(t: Transition): Intent | null {
  if (t.transition === 'resolved') return { kind: 'resolved', resolution: resolutionOf(t, t.reason ?? REASONS.gone) };
  if (t.transition === 'suppressed') return { kind: 'resolved', resolution: resolutionOf(t, REASONS.suppressed) };
  if (t.suppressed) return null;
  switch (t.transition) {
    case 'opened':
    case 'reopened':
    case 'unsuppressed':
      return { kind: 'opened' };
    case 'severity_changed':
      return t.fromSeverity && t.toSeverity && severityRank(t.toSeverity) > severityRank(t.fromSeverity) ? { kind: 'severity_raised' } : null;
    default:
      return null;
  }
}

/** incident sinks page someone, chat sinks are read by people, machine sinks feed other systems. */
export const SINK_ROLE: Record<SinkKind, 'incident' | 'chat' | 'machine'> = {
  pagerduty: 'incident', slack: 'chat', teams: 'chat', email: 'chat', webhook: 'machine', log: 'machine',
};

/**
 * Every sink of an episode hears how it ended, except that chat sinks are spared the
 * administrative endings (rule disabled or removed, account gone, key retired): nobody fixed
 * anything, but an incident must still close and a machine must still know.
 */
export const hearsResolution = (kind: SinkKind, r: AlertResolution) => r.category !== 'administrative' || SINK_ROLE[kind] !== 'chat';

/** A resolution people made (acknowledged, suppressed) or flarewatch made: a one-line notice in chat, not a full message. */
export const isQuiet = (r: AlertResolution | undefined) => r !== undefined && r.category !== 'fixed';

/**
 * A transition found by a baseline: the run was asked to be one (`--baseline`), or, unless
 * `alerts.baseline` is off, it is the rule's first check here or the finding's account was
 * walked for the first time since the last check. A finding without an account (a user token,
 * an organization member) is judged from several accounts' data (their audit logs, the
 * accounts an organization holds), so the first walk of the user level or of any account
 * is a baseline for it.
 */
export function inBaseline(t: Pick<Transition, 'accountId'>, meta: TransitionMeta, automatic: boolean): boolean {
  if (meta.baseline) return true;
  if (!automatic) return false;
  if (meta.firstCheck) return true;
  return t.accountId ? meta.fresh.accounts.has(t.accountId.toLowerCase()) : meta.fresh.user || meta.fresh.accounts.size > 0;
}
