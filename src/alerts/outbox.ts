// The outbox writer: runs inside each rule's transaction (engine `onTransitions`) with the
// transitions just written, so a transition and its alert commit together or not at all.
// Each alert row gets its delivery rows (one per sink) in the same transaction, before any send.
import { randomUUID } from 'node:crypto';
import type { Context } from '../context.js';
import type { Tx } from '../db/client.js';
import { type AlertRow, currentEpisodes, type DeliveryRow, type Episode, findingInfo, insertAlerts, insertDeliveries } from '../db/queries/alerts.js';
import { markSummaryPending } from '../db/queries/rule-states.js';
import type { Transition } from '../findings/apply.js';
import type { OnTransitions, TransitionMeta } from '../rules/rule-run.js';
import type { Rule } from '../rules/types.js';
import { alertEvent } from './content-from-finding.js';
import { hearsResolution, inBaseline, type Intent, intentFor } from './intents.js';
import type { AlertsConfig } from '../config/alerts.js';
import { routeAlert, type Route } from './routing.js';

/**
 * The sinks an intent goes to, given the finding's current episode: an opening to the sinks
 * whose routing matches; a raise to those (it starts an episode when there is none); a
 * resolution to the sinks of the episode that hear it (none without an episode).
 */
function routesFor(alerts: AlertsConfig, t: Transition, intent: Intent, episode: Episode | undefined): Route[] | undefined {
  if (intent.kind !== 'resolved') return routeAlert(alerts, t.ruleId, t.severity);
  if (!episode) return undefined;
  return episode.sinks.filter((s) => {
    const setup = alerts.sinks[s.sink];
    return setup !== undefined && hearsResolution(setup.kind, intent.resolution!);
  });
}

interface Written {
  rows: AlertRow[];
  deliveries: DeliveryRow[];
  silenced: number;
}

/** The outbox rows for one batch, episode by episode (a batch can open and close the same finding's episode). */
function plan(ctx: Pick<Context, 'config'>, rules: Map<string, Rule>, alerting: Array<{ t: Transition; intent: Intent }>, episodes: Map<number, Episode>, info: Awaited<ReturnType<typeof findingInfo>>, meta: TransitionMeta): Written {
  const alerts = ctx.config.alerts;
  const out: Written = { rows: [], deliveries: [], silenced: 0 };
  for (const { t, intent } of alerting) {
    const episode = episodes.get(t.findingId);
    // A baseline records what it finds without alerting it; what an earlier episode sent still closes.
    if (intent.kind !== 'resolved' && !episode && inBaseline(t, meta, alerts.baseline)) {
      out.silenced++;
      continue;
    }
    const routes = routesFor(alerts, t, intent, episode);
    if (!routes || (intent.kind !== 'resolved' && !routes.length)) continue;
    const id = randomUUID();
    const fingerprint = intent.kind === 'opened' ? t.fingerprint : (episode?.fingerprint ?? t.fingerprint);
    const event = alertEvent(id, intent.kind, t, rules.get(t.ruleId), info.get(t.findingId), { fingerprint, resolution: intent.resolution });
    // A resolution is written even when no sink hears it: it marks where the episode ended.
    out.rows.push({ id, findingId: t.findingId, fingerprint, kind: intent.kind, severity: t.severity, event, createdAt: t.at });
    for (const r of routes) out.deliveries.push({ alertId: id, sink: r.sink, mode: r.mode, nextAttemptAt: t.at });
    if (intent.kind === 'resolved') episodes.delete(t.findingId);
    else {
      const sinks = [...(episode?.sinks ?? []), ...routes.filter((r) => !episode?.sinks.some((s) => s.sink === r.sink))];
      episodes.set(t.findingId, { fingerprint, sinks });
    }
  }
  return out;
}

/** The `onTransitions` hook for runChecks. `rules` supplies rationale and remediation by rule id. */
export function outboxWriter(ctx: Pick<Context, 'config' | 'log'>, rules: readonly Rule[]): OnTransitions {
  const byId = new Map(rules.map((r) => [r.id, r]));
  return async (tx: Tx, transitions: Transition[], meta: TransitionMeta) => {
    const alerting = transitions.flatMap((t) => {
      const intent = intentFor(t);
      return intent ? [{ t, intent }] : [];
    });
    const ids = [...new Set(alerting.map((a) => a.t.findingId))];
    const [episodes, info] = [await currentEpisodes(tx, ids), await findingInfo(tx, ids, alerting[0]?.t.at)];
    const out = plan(ctx, byId, alerting, episodes, info, meta);
    await insertAlerts(tx, out.rows);
    await insertDeliveries(tx, out.deliveries);
    // The rule's first check, a --baseline run, or findings kept quiet: each sink gets a summary instead.
    const baseline = !meta.retiring && (meta.baseline || (meta.firstCheck && ctx.config.alerts.baseline));
    if (baseline || out.silenced) await markSummaryPending(tx, meta.ruleId, out.silenced);
    if (out.rows.length) ctx.log.debug({ alerts: out.rows.length, deliveries: out.deliveries.length, silenced: out.silenced }, 'alerts queued');
  };
}
