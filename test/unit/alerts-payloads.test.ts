import { describe, expect, it } from 'vitest';
import { groupDigest } from '../../src/alerts/content.js';
import { sampleAlert, sampleDigest } from '../../src/alerts/sample.js';
import { buildEmailPayload } from '../../src/alerts/sinks/email.js';
import { buildLogPayload } from '../../src/alerts/sinks/log.js';
import { buildPagerDutyPayload, PAGERDUTY_SEVERITY } from '../../src/alerts/sinks/pagerduty.js';
import { buildSlackPayload, SLACK_LIMITS, type SlackPayload } from '../../src/alerts/sinks/slack.js';
import { buildTeamsPayload } from '../../src/alerts/sinks/teams.js';
import { buildWebhookPayload, WEBHOOK_MAX_STRING, type WebhookDigestPayload, type WebhookEventPayload } from '../../src/alerts/sinks/webhook.js';
import type { AlertEvent } from '../../src/alerts/types.js';

const HOSTILE = [
  '<!channel>',
  '<!here|x>',
  '<@U123>',
  '<https://evil.example|click>',
  '<script>alert(1)</script>',
  '*bold* _x_ ~y~ `code`',
  'token\r\nBcc: victim@example.com',
  '名前 🔑 Ünïcødé',
  'x'.repeat(10_000),
];
/** Test titles: long inputs by their length. */
const named = (list: string[]) => list.map((s) => [s.length > 60 ? `${s.slice(0, 12)}… (${s.length} chars)` : s, s] as const);
const LONG = '<!channel>'.repeat(1_000); // 10,000 characters, expands 4x... when escaped

const slackCfg = { digestLinesPerSeverity: 3 };
const emailCfg = { from: 'Flarewatch <alerts@example.com>', to: ['secops@example.com'], subjectPrefix: '[flarewatch]' };
const hostile = (name: string, extra: Partial<AlertEvent> = {}) =>
  sampleAlert({ kind: 'opened', alertId: 'alert-1', resourceName: name, accountName: name, facts: { name, count: 3 }, ...extra });

/** Every text object in a Slack payload, with the limit that applies to it. */
function slackTexts(p: SlackPayload): Array<{ text: string; max: number; where: string }> {
  const out = [{ text: p.text, max: SLACK_LIMITS.text, where: 'text' }];
  for (const b of p.blocks) {
    if (b.type === 'header') out.push({ text: b.text.text, max: SLACK_LIMITS.header, where: 'header' });
    if (b.type === 'section' && b.text) out.push({ text: b.text.text, max: SLACK_LIMITS.section, where: 'section' });
    if (b.type === 'section' && b.fields) for (const f of b.fields) out.push({ text: f.text, max: SLACK_LIMITS.field, where: 'field' });
    if (b.type === 'context') for (const t of b.elements) out.push({ text: t.text, max: SLACK_LIMITS.section, where: 'context' });
  }
  return out;
}

describe('slack payload', () => {
  it.each(named(HOSTILE))('makes %j inert and keeps every text within Block Kit limits', (_, name) => {
    const p = buildSlackPayload(hostile(name), slackCfg);
    expect(p.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    for (const { text, max, where } of slackTexts(p)) {
      expect(text.length, where).toBeLessThanOrEqual(max);
      // No raw bracket survives anywhere: no mention, no link, no special command.
      expect(text, where).not.toMatch(/[<>]/);
      expect(text, where).not.toMatch(/[\r\n]Bcc/);
    }
  });

  it('shows the hostile name escaped, inside inline code, exactly', () => {
    const p = buildSlackPayload(hostile('<!channel> *bold* `x` <@U123>'), slackCfg);
    const section = p.blocks[2];
    expect(section).toEqual({
      type: 'section',
      text: {
        type: 'mrkdwn',
        verbatim: true,
        text: '*token:* `&lt;!channel&gt; *bold* ˋxˋ &lt;@U123&gt;`\n*Key:* `token:0123456789abcdef0123456789abcdef`\n*Account:* `&lt;!channel&gt; *bold* ˋxˋ &lt;@U123&gt;`',
      },
    });
    expect(p.text).toBe('[Medium] API token has no expiry: `&lt;!channel&gt; *bold* ˋxˋ &lt;@U123&gt;`');
    expect(p.blocks[3]).toMatchObject({ fields: [{ text: '*`name`*\n`&lt;!channel&gt; *bold* ˋxˋ &lt;@U123&gt;`' }, { text: '*`count`*\n`3`' }] });
  });

  it('caps a name whose escaped form is four times longer, with an ellipsis', () => {
    const p = buildSlackPayload(hostile(LONG), slackCfg);
    const field = (p.blocks[3] as { fields: Array<{ text: string }> }).fields[0]!.text;
    expect(field.length).toBeLessThanOrEqual(SLACK_LIMITS.field);
    expect(field.endsWith('…`')).toBe(true);
    expect(field).not.toMatch(/&(?!amp;|lt;|gt;)/);
  });

  it('splits many facts into sections of at most 10 fields, with a dashboard button', () => {
    const facts = Object.fromEntries(Array.from({ length: 60 }, (_, i) => [`fact${i}`, 'v'.repeat(5000)]));
    const p = buildSlackPayload(sampleAlert({ kind: 'opened', facts }), slackCfg);
    const sections = p.blocks.filter((b) => b.type === 'section' && b.fields);
    expect(sections).toHaveLength(2); // 20 facts at most
    for (const s of sections) expect((s as { fields: unknown[] }).fields.length).toBeLessThanOrEqual(10);
    expect(p.blocks.at(-1)).toMatchObject({ type: 'actions', elements: [{ url: 'https://dash.cloudflare.com/profile/api-tokens' }] });
  });

  it('renders a resolution as a short message without facts or button', () => {
    const p = buildSlackPayload(sampleAlert({ kind: 'resolved' }), slackCfg);
    expect(p.blocks.map((b) => b.type)).toEqual(['header', 'context', 'section', 'context']);
    expect(p.blocks[0]).toMatchObject({ text: { text: '✅ Resolved: API token has no expiry' } });
    expect(p.text).toBe('Resolved API token has no expiry: `flarewatch sample token`');
  });

  it('drops a dashboard link that is not http(s)', () => {
    const p = buildSlackPayload(sampleAlert({ kind: 'opened', dashboardUrl: 'javascript:alert(1)' }), slackCfg);
    expect(p.blocks.some((b) => b.type === 'actions')).toBe(false);
  });
});

const digestEvents = (): AlertEvent[] => [
  sampleAlert({ severity: 'low', ruleId: 'rule-b', title: 'B', resourceName: 'b1' }),
  sampleAlert({ severity: 'critical', ruleId: 'rule-z', title: 'Z', resourceName: 'z1' }),
  sampleAlert({ severity: 'medium', ruleId: 'rule-a', title: 'A', resourceName: 'a2' }),
  sampleAlert({ severity: 'medium', ruleId: 'rule-a', title: 'A', resourceName: 'a1' }),
  sampleAlert({ severity: 'medium', ruleId: 'rule-c', title: 'C', resourceName: '<!channel>' }),
  sampleAlert({ severity: 'medium', ruleId: 'rule-a', title: 'A', resourceName: 'a3' }),
  sampleAlert({ severity: 'medium', ruleId: 'rule-a', title: 'A', resourceName: 'a4' }),
];

describe('digest grouping', () => {
  it('groups by severity (most severe first), then rule (most events first), then resource', () => {
    const groups = groupDigest(digestEvents());
    expect(groups.map((g) => [g.severity, g.count, g.rules.map((r) => [r.ruleId, r.events.map((e) => e.resourceName)])])).toEqual([
      ['critical', 1, [['rule-z', ['z1']]]],
      ['medium', 5, [['rule-a', ['a1', 'a2', 'a3', 'a4']], ['rule-c', ['<!channel>']]]],
      ['low', 1, [['rule-b', ['b1']]]],
    ]);
  });

  it('slack: a section per severity with its count, at most N lines, then "and K more"', () => {
    const p = buildSlackPayload(sampleDigest(digestEvents()), slackCfg);
    const sections = p.blocks.filter((b) => b.type === 'section').map((b) => (b as { text: { text: string } }).text.text);
    expect(sections).toEqual([
      '🔴 *Critical* (1)\n*Z* `rule-z` (1)\n• `z1` in `Example account`',
      '🟡 *Medium* (5)\n*A* `rule-a` (4)\n• `a1` in `Example account`\n• `a2` in `Example account`\n• `a3` in `Example account`\n_and 2 more_',
      '🔵 *Low* (1)\n*B* `rule-b` (1)\n• `b1` in `Example account`',
    ]);
    expect(p.text).toBe('Flarewatch digest: 7 findings (1 critical, 5 medium, 1 low)');
  });

  it('slack: a digest of 2,000 hostile events stays within limits', () => {
    const events = Array.from({ length: 2000 }, (_, i) => sampleAlert({ severity: (['critical', 'high', 'medium', 'low', 'info'] as const)[i % 5], ruleId: `rule-${i % 7}`, resourceName: LONG }));
    const p = buildSlackPayload(sampleDigest(events), { digestLinesPerSeverity: 50 });
    expect(p.blocks.length).toBeLessThanOrEqual(SLACK_LIMITS.blocks);
    for (const { text, max } of slackTexts(p)) {
      expect(text.length).toBeLessThanOrEqual(max);
      expect(text).not.toMatch(/[<>]/);
    }
    expect(JSON.stringify(p)).toContain('more_');
  });

  it('email: an HTML table in digest order, escaped', () => {
    const m = buildEmailPayload(sampleDigest(digestEvents()), emailCfg);
    const cells = [...m.html.matchAll(/<td [^>]*>([^<]*)<\/td><td [^>]*>[^<]*<\/td><td [^>]*>([^<]*)<\/td>/g)].map((r) => `${r[1]}:${r[2]}`);
    expect(cells).toEqual(['Z:z1', 'A:a1', 'A:a2', 'A:a3', 'A:a4', 'C:&lt;!channel&gt;', 'B:b1']);
    expect(m.html).toContain('Critical (1)</th>');
    expect(m.subject).toBe('[flarewatch] Digest: 7 findings (1 critical, 5 medium, 1 low)');
  });

  it('webhook: the events as an array in digest order, with counts', () => {
    const p = buildWebhookPayload(sampleDigest(digestEvents())) as WebhookDigestPayload;
    expect(p.type).toBe('digest');
    expect(p.counts).toEqual({ critical: 1, medium: 5, low: 1 });
    expect(p.events.map((e) => (e as WebhookEventPayload).finding.resource.name)).toEqual(['z1', 'a1', 'a2', 'a3', 'a4', '<!channel>', 'b1']);
  });

  it('teams: severity headings, N lines, "and K more"; pagerduty: not sent', () => {
    const p = buildTeamsPayload(sampleDigest(digestEvents()), slackCfg);
    const texts = p.attachments[0]!.content.body.map((b) => b.text);
    expect(texts).toContain('🟡 **Medium** (5)');
    expect(texts).toContain('_and 2 more_');
    const all = buildTeamsPayload(sampleDigest(digestEvents()), { digestLinesPerSeverity: 10 });
    expect(all.attachments[0]!.content.body.map((b) => b.text)).toContain('• \\<\\!channel\\> in Example account');
    expect(buildPagerDutyPayload(sampleDigest(digestEvents()), { source: 'x' })).toBeNull();
  });
});

describe('email payload', () => {
  it('escapes every untrusted value in HTML and loads nothing remote', () => {
    const m = buildEmailPayload(hostile('<script>alert(1)</script>', { facts: { note: '<img src=https://evil.example/x.png>' } }), emailCfg);
    expect(m.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(m.html).toContain('&lt;img src=https://evil.example/x.png&gt;');
    expect(m.html).not.toMatch(/<script|<img|src=["']|url\(/i);
    expect([...m.html.matchAll(/href="([^"]*)"/g)].map((r) => r[1])).toEqual(['https://dash.cloudflare.com/profile/api-tokens']);
    expect(m.text).toContain('token: <script>alert(1)</script>');
  });

  it.each(named(HOSTILE))('keeps %j out of header lines and caps the subject', (_, name) => {
    const m = buildEmailPayload(hostile(name, { title: `title\r\nX-Injected: 1` }), emailCfg);
    expect(m.subject).not.toMatch(/[\r\n]/);
    expect(m.subject.length).toBeLessThanOrEqual(200);
    expect(m.subject.startsWith('[flarewatch] [MEDIUM] title X-Injected: 1: ')).toBe(true);
  });

  it('derives Message-ID from the alert id and threads every message of one finding', () => {
    const opened = buildEmailPayload(sampleAlert({ kind: 'opened', alertId: 'a-1' }), emailCfg);
    const retry = buildEmailPayload(sampleAlert({ kind: 'opened', alertId: 'a-1' }), emailCfg);
    const resolved = buildEmailPayload(sampleAlert({ kind: 'resolved', alertId: 'a-2' }), emailCfg);
    const other = buildEmailPayload(sampleAlert({ kind: 'resolved', alertId: 'a-3', fingerprint: 'other' }), emailCfg);
    expect(opened.messageId).toBe('<alert.a-1@example.com>');
    expect(retry.messageId).toBe(opened.messageId);
    expect(opened.inReplyTo).toBeUndefined();
    expect(opened.references).toHaveLength(1);
    expect(resolved.inReplyTo).toBe(opened.references![0]);
    expect(resolved.references).toEqual(opened.references);
    expect(other.inReplyTo).not.toBe(resolved.inReplyTo);
    expect(buildEmailPayload(sampleAlert({ alertId: 'x>\r\ny@z' }), emailCfg).messageId).toBe('<alert.x___y_z@example.com>');
  });
});

describe('pagerduty payload', () => {
  it.each(Object.entries(PAGERDUTY_SEVERITY))('maps %s to %s', (ours, theirs) => {
    const p = buildPagerDutyPayload(sampleAlert({ kind: 'opened', severity: ours as AlertEvent['severity'] }), { source: 'x' });
    expect(p).toMatchObject({ event_action: 'trigger', payload: { severity: theirs } });
  });

  it('triggers on opened/reminder/severity_raised and resolves on resolved, with the fingerprint as dedup key', () => {
    for (const kind of ['opened', 'reminder', 'severity_raised'] as const) {
      expect(buildPagerDutyPayload(sampleAlert({ kind }), { source: 'x' })).toMatchObject({ event_action: 'trigger', dedup_key: sampleAlert().fingerprint });
    }
    expect(buildPagerDutyPayload(sampleAlert({ kind: 'resolved' }), { source: 'x' })).toEqual({ event_action: 'resolve', dedup_key: sampleAlert().fingerprint });
  });

  it('caps the summary at 1024 and hashes an over-long fingerprint', () => {
    const p = buildPagerDutyPayload(hostile(LONG, { fingerprint: 'f'.repeat(300) }), { source: 'x' });
    if (p?.event_action !== 'trigger') throw new Error('expected a trigger');
    expect(p.payload.summary.length).toBeLessThanOrEqual(1024);
    expect(p.payload.summary.endsWith('…')).toBe(true);
    expect(p.dedup_key).toMatch(/^flarewatch:[0-9a-f]{64}$/);
    expect(p.payload.custom_details).toMatchObject({ count: 3 });
    expect(p.links).toEqual([{ href: 'https://dash.cloudflare.com/profile/api-tokens', text: 'Cloudflare dashboard' }]);
  });
});

describe('webhook payload', () => {
  it('is versioned and carries the finding, strings capped', () => {
    const p = buildWebhookPayload(hostile('x'.repeat(10_000), { kind: 'severity_raised', previousSeverity: 'low' })) as WebhookEventPayload;
    expect(p).toMatchObject({ version: 1, type: 'finding.severity_raised', alert_id: 'alert-1', finding: { severity: 'medium', previous_severity: 'low', rule_id: 'token-no-expiry' } });
    expect(p.finding.resource.name).toHaveLength(WEBHOOK_MAX_STRING);
    expect((p.finding.facts.name as string).length).toBe(WEBHOOK_MAX_STRING);
  });
});

describe('teams payload', () => {
  it('escapes Markdown in TextBlocks and FactSets', () => {
    const p = buildTeamsPayload(hostile('*bold* [x](https://evil.example) <!channel>'), slackCfg);
    const json = JSON.stringify(p);
    expect(json).toContain(JSON.stringify('\\*bold\\* \\[x\\]\\(https://evil\\.example\\) \\<\\!channel\\>'));
    expect(json).not.toContain('[x](');
  });
});

describe('log payload', () => {
  it('is one structured object, raw text, capped, no HTML', () => {
    const { obj, msg } = buildLogPayload(hostile(LONG), { digestMaxEvents: 10 });
    const alert = obj.alert as Record<string, unknown>;
    expect(msg).toBe('alert opened: API token has no expiry');
    expect((alert.resourceName as string).length).toBeLessThanOrEqual(1000);
    expect(JSON.stringify(obj)).not.toMatch(/&lt;|<table|<td/);
  });
});

describe('no secret in any payload', () => {
  it('builders never see or echo a secret from the sink config', () => {
    const secrets = { webhookUrl: 'https://hooks.slack.com/services/T0/B0/SLACKSECRETPATH', secret: 'whsec-0123456789abcdef', password: 'smtp-hunter2-password', routingKey: 'R0UTINGKEY0123456789' };
    const e = hostile('<!channel>');
    const payloads = [
      buildSlackPayload(e, { ...slackCfg, ...secrets }),
      buildTeamsPayload(e, { ...slackCfg, ...secrets }),
      buildWebhookPayload(e, secrets),
      buildEmailPayload(e, { ...emailCfg, ...secrets }),
      buildPagerDutyPayload(e, { source: 'flarewatch', ...secrets }),
      buildLogPayload(e, { digestMaxEvents: 10 }),
    ];
    for (const p of payloads) {
      const json = JSON.stringify(p);
      for (const s of ['SLACKSECRETPATH', secrets.secret, secrets.password, secrets.routingKey]) expect(json).not.toContain(s);
    }
  });
});
