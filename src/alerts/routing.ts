// Which configured sinks an alert goes to: severity at or above the sink's minSeverity, and
// the rule among the sink's `rules` (ids or globs with '*'), when it lists any.
import { severityRank, type Severity } from '../rules/types.js';
import type { AlertsConfig, SinkSetup } from '../config/alerts.js';

export interface Route {
  sink: string;
  mode: 'immediate' | 'digest';
}

export function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*')) return pattern === value;
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(value);
}

/** A sink's routing takes (rule, severity): severity at or above its minSeverity, the rule among its `rules` when it lists any. */
export const sinkTakes = (s: Pick<SinkSetup, 'minSeverity' | 'rules'>, ruleId: string, severity: Severity) =>
  severityRank(severity) >= severityRank(s.minSeverity) && (s.rules.length === 0 || s.rules.some((p) => globMatch(p, ruleId)));

export function routeAlert(alerts: AlertsConfig, ruleId: string, severity: Severity): Route[] {
  return Object.entries(alerts.sinks)
    .filter(([, s]) => sinkTakes(s, ruleId, severity))
    .map(([sink, s]) => ({ sink, mode: s.mode }));
}
