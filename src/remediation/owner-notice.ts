import { z } from 'zod';
import type { SinkSetup } from '../config/alerts.js';
import { type AlertEvent, PermanentSinkError } from '../alerts/types.js';
import type { Config } from '../config.js';

/**
 * A hygiene notice told straight to the token's owner or creator (remediation.notifyOwners): one more
 * delivery of the notice's alert, to a sink of its own that sends through an email sink's SMTP
 * settings with the owner as the only recipient. It rides the outbox like every alert (retries,
 * idempotency, one delivery per notice) and connects nowhere but the SMTP server the operator
 * configured: the owner's domain is never looked up, so no address from Cloudflare picks a host.
 */

/** Not a valid sink name (alerts.sinks names are [A-Za-z0-9_.-]), so no configured sink can take it. */
export const OWNER_SINK = '@owner';

/** An owner's address as Cloudflare gave it, if it is one plain address (no display name, no line break, no list). */
export function ownerAddress(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw.length > 254 || /[\s,;<>]/.test(raw)) return undefined;
  return z.email().safeParse(raw).success ? raw : undefined;
}

/** The email sink owner notices go through: remediation.ownerEmailSink, else the first email sink by name; or why there is none. */
export function ownerEmailSink(config: Pick<Config, 'alerts' | 'remediation'>): { name: string; setup: SinkSetup } | string {
  if (!config.remediation.notifyOwners) return 'remediation.notifyOwners is off';
  const named = config.remediation.ownerEmailSink;
  if (named) {
    const setup = config.alerts.sinks[named];
    if (!setup) return `remediation.ownerEmailSink names "${named}", which is not in alerts.sinks`;
    return setup.kind === 'email' ? { name: named, setup } : `remediation.ownerEmailSink names "${named}", a ${setup.kind} sink, not an email sink`;
  }
  const first = Object.entries(config.alerts.sinks).filter(([, s]) => s.kind === 'email').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))[0];
  return first ? { name: first[0], setup: first[1] } : 'no email sink is configured';
}

/** The owner sink as the deliverer drains it: the email sink's setup, always immediate, never routed. */
export function ownerSinkEntries(config: Pick<Config, 'alerts' | 'remediation'>): Array<[string, SinkSetup]> {
  const s = ownerEmailSink(config);
  return typeof s === 'string' ? [] : [[OWNER_SINK, { ...s.setup, mode: 'immediate', minSeverity: 'info', rules: [] }]];
}

/** The email sink's settings with the notice's owner (`facts.notify`) as the one recipient. */
export function ownerSettings(settings: Record<string, unknown>, event: AlertEvent): Record<string, unknown> {
  const to = ownerAddress(event.facts?.notify);
  if (!to) throw new PermanentSinkError('owner notice: the alert names no valid owner address');
  return { ...settings, to: [to] };
}
