// The alerts section of the config: env shortcuts, *_FILE secrets, routing validation, the log sink default, scrubbing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { routeAlert } from '../../src/alerts/routing.js';
import { ConfigError, loadConfig, secretValues } from '../../src/config.js';

it('env shortcuts configure one sink each, secrets from *_FILE, all scrubbed; log is on by default', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fw-alerts-'));
  writeFileSync(join(dir, 'smtp'), 'smtp-file-pa55word\n');
  writeFileSync(join(dir, 'pd'), 'PDROUTINGKEYFROMFILE\n');
  const c = loadConfig({
    FLAREWATCH_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T1/B2/slackpathsecret',
    FLAREWATCH_WEBHOOK_URL: 'https://example.com/hook', FLAREWATCH_WEBHOOK_SECRET: 'webhook-secret-0123456789',
    FLAREWATCH_PAGERDUTY_ROUTING_KEY_FILE: join(dir, 'pd'),
    FLAREWATCH_SMTP_URL: 'smtp://mailer@smtp.example.com:2525', FLAREWATCH_SMTP_PASSWORD_FILE: join(dir, 'smtp'),
    FLAREWATCH_EMAIL_FROM: 'flarewatch@example.com', FLAREWATCH_EMAIL_TO: 'a@example.com, b@example.com',
  });
  expect(Object.keys(c.alerts.sinks).sort()).toEqual(['email', 'log', 'pagerduty', 'slack', 'webhook']);
  expect(c.alerts.sinks.email).toMatchObject({ kind: 'email', settings: { host: 'smtp.example.com', port: 2525, user: 'mailer', password: 'smtp-file-pa55word', to: ['a@example.com', 'b@example.com'] } });
  expect(c.alerts.sinks.pagerduty!.settings).toMatchObject({ routingKey: 'PDROUTINGKEYFROMFILE' });
  expect(secretValues(c)).toEqual(expect.arrayContaining(['smtp-file-pa55word', 'PDROUTINGKEYFROMFILE', 'webhook-secret-0123456789', '/services/T1/B2/slackpathsecret']));
  expect(c.alerts.reminderInterval).toBe(7 * 86_400_000);
  expect(loadConfig({ FLAREWATCH_ALERTS_LOG_SINK: 'false' }).alerts.sinks).toEqual({});
});

it('routes by minSeverity and rule globs, and names the bad key of a sink', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fw-alerts-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, `alerts:\n  sinks:\n    oncall: { kind: pagerduty, routingKey: abcdefabcdef, minSeverity: high }\n    tokens: { kind: webhook, url: "https://example.com/x", secret: "0123456789abcdef0", rules: ["token-*"], mode: digest }\n`);
  const c = loadConfig({ FLAREWATCH_CONFIG: file });
  expect(routeAlert(c.alerts, 'token-no-expiry', 'medium')).toEqual([{ sink: 'tokens', mode: 'digest' }, { sink: 'log', mode: 'immediate' }]);
  expect(routeAlert(c.alerts, 'member-no-2fa', 'critical').map((r) => r.sink)).toEqual(['oncall', 'log']);
  writeFileSync(file, `alerts:\n  sinks:\n    x: { kind: webhook, url: "https://example.com/x", secret: short }\n    y: { kind: carrier-pigeon }\n`);
  const err = (() => { try { loadConfig({ FLAREWATCH_CONFIG: file }); } catch (e) { return e as ConfigError; } })();
  expect(err).toBeInstanceOf(ConfigError);
  expect(err!.problems.join('\n')).toMatch(/alerts\.sinks\.x\.secret/);
  expect(err!.problems.join('\n')).toMatch(/alerts\.sinks\.y\.kind/);
});

it('refuses a sink configuration that cannot work: PagerDuty in digest mode (it would drop every alert)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'fw-alerts-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, `alerts:\n  sinks:\n    oncall: { kind: pagerduty, routingKey: abcdefabcdef, mode: digest }\n`);
  const err = (() => { try { loadConfig({ FLAREWATCH_CONFIG: file }); } catch (e) { return e as ConfigError; } })();
  expect(err).toBeInstanceOf(ConfigError);
  expect(err!.problems).toEqual([expect.stringMatching(/^alerts\.sinks\.oncall\.mode: a PagerDuty sink takes per-finding events .*use mode: immediate/)]);
  expect(err!.message).not.toContain('abcdefabcdef');
  writeFileSync(file, `alerts:\n  sinks:\n    oncall: { kind: pagerduty, routingKey: abcdefabcdef }\n`);
  expect(loadConfig({ FLAREWATCH_CONFIG: file }).alerts.sinks.oncall).toMatchObject({ kind: 'pagerduty', mode: 'immediate' });
});

it('the baseline and detection reminders are settings: on and off by default', () => {
  const c = loadConfig({});
  expect([c.alerts.baseline, c.alerts.detectionReminderInterval]).toEqual([true, 0]);
  const d = loadConfig({ FLAREWATCH_ALERTS_BASELINE: 'false', FLAREWATCH_DETECTION_REMINDER_INTERVAL: '30d' });
  expect([d.alerts.baseline, d.alerts.detectionReminderInterval]).toEqual([false, 30 * 86_400_000]);
});
