// Pure parts of alerts people trust: which transition asks for what, who hears a resolution,
// what a baseline keeps quiet, and how every sink renders a summary and a quiet notice.
import { describe, expect, it } from 'vitest';
import { hearsResolution, inBaseline, intentFor, isQuiet } from '../../src/alerts/intents.js';
import { sampleAlert } from '../../src/alerts/sample.js';
import { buildEmailPayload } from '../../src/alerts/sinks/email.js';
import { buildLogPayload } from '../../src/alerts/sinks/log.js';
import { buildPagerDutyPayload } from '../../src/alerts/sinks/pagerduty.js';
import { buildSlackPayload } from '../../src/alerts/sinks/slack.js';
import { buildTeamsPayload } from '../../src/alerts/sinks/teams.js';
import { buildWebhookPayload, type WebhookSummaryPayload } from '../../src/alerts/sinks/webhook.js';
import { summaryFor } from '../../src/alerts/summary.js';
import type { AlertEvent, SummaryEvent } from '../../src/alerts/types.js';
import type { Transition } from '../../src/findings/apply.js';
import { categoryOf, REASONS } from '../../src/findings/reasons.js';
import type { TransitionMeta } from '../../src/rules/rule-run.js';

const t = (over: Partial<Transition>): Transition => ({
  findingId: 1, fingerprint: 'fp', ruleId: 'r', title: 'T', kind: 'state', resourceKey: 'token:a', resourceType: 'token', resourceName: null, accountId: null,
  transition: 'opened', fromSeverity: null, toSeverity: 'medium', severity: 'medium', suppressed: false, reason: null, by: null, note: null, at: new Date(0), ...over,
});
const meta = (over: Partial<TransitionMeta> = {}): TransitionMeta => ({ ruleId: 'r', firstCheck: false, baseline: false, fresh: { accounts: new Set(), user: false }, ...over });
const HOSTILE = '<!channel> *x* <script>alert(1)</script>';

describe('intents', () => {
  it('opening starts an episode, a raise continues one, a resolution or a suppression ends it', () => {
    expect(intentFor(t({ transition: 'opened' }))).toEqual({ kind: 'opened' });
    expect(intentFor(t({ transition: 'reopened' }))).toEqual({ kind: 'opened' });
    expect(intentFor(t({ transition: 'unsuppressed' }))).toEqual({ kind: 'opened' });
    expect(intentFor(t({ transition: 'opened', suppressed: true }))).toBeNull();
    expect(intentFor(t({ transition: 'severity_changed', fromSeverity: 'low', toSeverity: 'high' }))).toEqual({ kind: 'severity_raised' });
    expect(intentFor(t({ transition: 'severity_changed', fromSeverity: 'high', toSeverity: 'low' }))).toBeNull();
    expect(intentFor(t({ transition: 'refreshed' }))).toBeNull();
    expect(intentFor(t({ transition: 'resolved', reason: REASONS.ruleDisabled }))).toEqual({ kind: 'resolved', resolution: { reason: 'rule disabled', category: 'administrative', by: null, note: null } });
    expect(intentFor(t({ transition: 'suppressed', suppressed: true, by: 'bob', note: 'ok' }))).toEqual({ kind: 'resolved', resolution: { reason: 'suppressed', category: 'suppressed', by: 'bob', note: 'ok' } });
  });

  it('every sink hears a resolution; chat is spared the administrative ones and gets people\'s as one quiet line', () => {
    const r = (reason: string) => ({ reason, category: categoryOf(reason) });
    for (const kind of ['pagerduty', 'webhook', 'log', 'slack', 'teams', 'email'] as const) {
      expect(hearsResolution(kind, r(REASONS.gone)), kind).toBe(true);
      expect(hearsResolution(kind, r(REASONS.suppressed)), kind).toBe(true);
      expect(hearsResolution(kind, r(REASONS.acknowledged)), kind).toBe(true);
    }
    expect(['pagerduty', 'webhook', 'log', 'slack', 'teams', 'email'].filter((k) => hearsResolution(k as 'log', r(REASONS.ruleRemoved)))).toEqual(['pagerduty', 'webhook', 'log']);
    expect([isQuiet(r(REASONS.gone)), isQuiet(r(REASONS.acknowledged)), isQuiet(undefined)]).toEqual([false, true, false]);
  });

  it('a baseline: --baseline, or (unless turned off) a rule\'s first check, or an account walked for the first time', () => {
    expect(inBaseline(t({}), meta({ baseline: true }), false)).toBe(true);
    expect(inBaseline(t({}), meta({ firstCheck: true }), true)).toBe(true);
    expect(inBaseline(t({}), meta({ firstCheck: true }), false)).toBe(false);
    const fresh = meta({ fresh: { accounts: new Set(['0123456789abcdef0123456789abcdef']), user: false } });
    expect(inBaseline(t({ accountId: '0123456789ABCDEF0123456789abcdef' }), fresh, true)).toBe(true);
    expect(inBaseline(t({ accountId: 'ffffffffffffffffffffffffffffffff' }), fresh, true)).toBe(false);
    // Without an account (a user token judged from account audit logs, an organization member): any first walk.
    expect(inBaseline(t({ accountId: null }), fresh, true)).toBe(true);
    expect(inBaseline(t({ accountId: null }), meta({ fresh: { accounts: new Set(), user: true } }), true)).toBe(true);
    expect(inBaseline(t({ accountId: null }), meta({ fresh: { accounts: new Set(), user: false } }), true)).toBe(false);
  });
});

describe('the summary', () => {
  const counts = [
    { ruleId: 'token-no-expiry', severity: 'medium' as const, kind: 'state' as const, n: 30 },
    { ruleId: 'token-broad-policy', severity: 'critical' as const, kind: 'state' as const, n: 2 },
    { ruleId: 'audit-token-broad-grant', severity: 'high' as const, kind: 'detection' as const, n: 3 },
  ];
  const top = [
    { ruleId: 'token-broad-policy', title: 'Broad token', severity: 'critical' as const, kind: 'state' as const, resourceKey: 'token:1', resourceName: HOSTILE, accountName: 'Acme' },
    { ruleId: 'audit-token-broad-grant', title: 'Broad grants', severity: 'high' as const, kind: 'detection' as const, resourceKey: 'actor:a|2030-01-01T00:00Z', resourceName: null, accountName: null },
  ];
  const base = { alertId: 'sum-1', occurredAt: '2030-01-01T00:00:00.000Z', baselined: 35, rules: ['token-no-expiry'] };
  const all: SummaryEvent = summaryFor({ minSeverity: 'info', rules: [] }, counts, top, base);

  it('counts what each sink would be told about', () => {
    expect(all).toMatchObject({ kind: 'summary', open: 35, highOrCritical: 5, detections: 3, counts: { medium: 30, critical: 2, high: 3 }, listCommand: 'npx flarewatch findings --severity high' });
    expect(all.top).toHaveLength(2);
    const tokens = summaryFor({ minSeverity: 'info', rules: ['token-no-*'] }, counts, top, base);
    expect(tokens).toMatchObject({ open: 30, highOrCritical: 0, top: [], listCommand: 'npx flarewatch findings' });
  });

  it('renders in every sink, headline first; PagerDuty gets none; untrusted names stay inert', () => {
    const headline = 'flarewatch is now watching 35 open findings, 5 high or critical';
    const slack = buildSlackPayload(all, { digestLinesPerSeverity: 5 });
    expect(slack.text).toBe(headline);
    expect(JSON.stringify(slack)).not.toMatch(/<!channel>|<script>/);
    expect(JSON.stringify(slack)).toContain('flarewatch findings --severity high');
    expect(JSON.stringify(buildTeamsPayload(all, { digestLinesPerSeverity: 5 }))).toContain(headline);
    const mail = buildEmailPayload(all, { from: 'f@example.com', to: ['t@example.com'], subjectPrefix: '[flarewatch]' });
    expect(mail.subject).toBe(`[flarewatch] ${headline}`);
    expect(mail.html).not.toContain('<script>');
    const hook = buildWebhookPayload(all) as WebhookSummaryPayload;
    expect(hook).toMatchObject({ version: 1, type: 'summary', alert_id: 'sum-1', open: 35, high_or_critical: 5, baselined: 35, list_command: 'npx flarewatch findings --severity high' });
    expect(hook.top[0]).toMatchObject({ rule_id: 'token-broad-policy', kind: 'state', resource: { key: 'token:1', name: HOSTILE } });
    expect(buildLogPayload(all, { digestMaxEvents: 10 }).msg).toBe(`alert summary: ${headline}`);
    expect(buildPagerDutyPayload(all, { source: 'flarewatch' })).toBeNull();
  });
});

describe('resolutions', () => {
  const resolved = (reason: string, by: string | null = null, note: string | null = null): AlertEvent =>
    sampleAlert({ kind: 'resolved', resolution: { reason, category: categoryOf(reason), by, note } });

  it('people\'s resolutions are one quiet line in chat, with who and why, escaped', () => {
    const p = buildSlackPayload(resolved('acknowledged', 'alice', HOSTILE), { digestLinesPerSeverity: 5 });
    expect(p.blocks.map((b) => b.type)).toEqual(['context']);
    expect(JSON.stringify(p)).toMatch(/☑️ Acknowledged: API token has no expiry — `by alice: &lt;!channel&gt;.*` · `flarewatch sample token` · rule `token-no-expiry`/);
    expect(JSON.stringify(p)).not.toMatch(/<!channel>|<script>/);
    const teams = JSON.stringify(buildTeamsPayload(resolved('suppressed', 'bob', 'known'), { digestLinesPerSeverity: 5 }));
    expect(teams).toContain('Suppressed');
    expect(buildEmailPayload(resolved('suppressed', 'bob', 'known'), { from: 'f@example.com', to: ['t@example.com'], subjectPrefix: '[fw]' }).subject).toMatch(/^\[fw\] Suppressed API token has no expiry/);
  });

  it('a fixed one keeps the full message; machines get the reason as data; PagerDuty resolves whatever the reason', () => {
    expect(buildSlackPayload(resolved('no longer detected'), { digestLinesPerSeverity: 5 }).blocks[0]).toMatchObject({ type: 'header', text: { text: '✅ Resolved: API token has no expiry' } });
    expect(buildWebhookPayload(resolved('rule removed'))).toMatchObject({ type: 'finding.resolved', finding: { resolution: { reason: 'rule removed', category: 'administrative', by: null, note: null } } });
    for (const reason of ['no longer detected', 'acknowledged', 'suppressed', 'rule disabled']) {
      expect(buildPagerDutyPayload(resolved(reason), { source: 'flarewatch' })).toMatchObject({ event_action: 'resolve' });
    }
  });

  it('a detection\'s opening says how to acknowledge it', () => {
    const opened = sampleAlert({ kind: 'opened', findingKind: 'detection', findingId: 42 });
    expect(JSON.stringify(buildSlackPayload(opened, { digestLinesPerSeverity: 5 }))).toContain('flarewatch findings ack 42 --by');
    expect(buildEmailPayload(opened, { from: 'f@example.com', to: ['t@example.com'], subjectPrefix: '[fw]' }).text).toContain('flarewatch findings ack 42 --by');
    expect(JSON.stringify(buildSlackPayload(sampleAlert({ kind: 'opened', findingKind: 'state', findingId: 42 }), { digestLinesPerSeverity: 5 }))).not.toContain('findings ack');
  });
});
