// A sample alert, for `flarewatch alerts test <sink>` and for tests.
import { randomUUID } from 'node:crypto';
import type { AlertEvent, DigestEvent } from './types.js';

export function sampleAlert(overrides: Partial<AlertEvent> = {}, now = new Date()): AlertEvent {
  const at = now.toISOString();
  return {
    alertId: `test-${randomUUID()}`,
    kind: 'test',
    fingerprint: 'token-no-expiry:token:0123456789abcdef0123456789abcdef',
    ruleId: 'token-no-expiry',
    title: 'API token has no expiry',
    severity: 'medium',
    resourceType: 'token',
    resourceKey: 'token:0123456789abcdef0123456789abcdef',
    resourceName: 'flarewatch sample token',
    accountId: '023e105f4ecef8ad9ca31a8372d0c353',
    accountName: 'Example account',
    facts: { expires_on: null, last_used_on: '2024-01-01T00:00:00Z', policies: 2 },
    rationale: 'A token that never expires stays valid after whoever held it has left.',
    remediation: 'Set an expiry on the token, or roll it and give the new one an expiry.',
    dashboardUrl: 'https://dash.cloudflare.com/profile/api-tokens',
    firstSeenAt: at,
    occurredAt: at,
    ...overrides,
  };
}

export function sampleDigest(events: AlertEvent[], overrides: Partial<DigestEvent> = {}): DigestEvent {
  return {
    alertId: `digest-${randomUUID()}`,
    kind: 'digest',
    period: { from: '2025-01-01T00:00:00.000Z', to: '2025-01-02T00:00:00.000Z' },
    events,
    ...overrides,
  };
}
