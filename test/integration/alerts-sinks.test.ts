// Each sink against a real receiver on loopback: HTTP for Slack, the webhook, PagerDuty and
// Teams, SMTP for email. The webhook signature is checked by a second implementation
// written here, not by importing ours.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RetryableSinkError } from '../../src/alerts/http.js';
import { sampleAlert, sampleDigest } from '../../src/alerts/sample.js';
import { sendTo, SINKS } from '../../src/alerts/sinks/index.js';
import { buildSlackPayload } from '../../src/alerts/sinks/slack.js';
import { PermanentSinkError, type Deliverable, type SinkContext } from '../../src/alerts/types.js';
import { createLogger } from '../../src/log.js';
import { downUrl, startHttpReceiver, startSmtpReceiver, type HttpReceiver, type SmtpReceiver } from '../helpers/receivers.js';

const SLACK_PATH = '/services/T0SECRET/B0SECRET/slackSecretPathXyz123';
const TEAMS_QUERY = '?api-version=2016-06-01&sig=teamsSigSecretAbc987';
const WEBHOOK_SECRET = 'whsec_test_0123456789abcdef';
const ROUTING_KEY = 'R0UT1NGKEYSECRET0123456789abcdef';
const SMTP = { user: 'flarewatch', password: 'smtp-pa55word-Secret!' };
const SECRETS = ['T0SECRET', 'slackSecretPathXyz123', 'teamsSigSecretAbc987', WEBHOOK_SECRET, ROUTING_KEY, SMTP.password];

/** A logger with NO secret scrubbing configured, so a leak by the sinks would show. */
const logLines: string[] = [];
const log = createLogger({
  level: 'debug',
  format: 'json',
  secrets: [],
  destination: new Writable({ write(chunk, _e, cb) { logLines.push(...String(chunk).split('\n').filter(Boolean)); cb(); } }),
});
const ctx: SinkContext = { log };

/** Send, and log a failure the way a delivery job would (so the scan covers error serialisation). */
async function deliver(kind: Parameters<typeof sendTo>[0], event: Deliverable, config: unknown, c: SinkContext = ctx) {
  try {
    const res = await sendTo(kind, event, config, c);
    log.info({ sink: kind, detail: res.detail }, 'delivered');
    return res;
  } catch (err) {
    log.warn({ sink: kind, err }, 'delivery failed');
    throw err;
  }
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the send to fail');
}

/** The receiver side of docs/webhooks.md, written independently of src/alerts/sinks/webhook.ts. */
function verifyWebhook(headers: Record<string, string | string[] | undefined>, rawBody: string, secret: string, nowSec: number, toleranceSec = 300): boolean {
  const ts = String(headers['x-flarewatch-timestamp'] ?? '');
  const sig = String(headers['x-flarewatch-signature'] ?? '');
  if (!/^\d+$/.test(ts) || Math.abs(nowSec - Number(ts)) > toleranceSec) return false;
  const expected = Buffer.from('v1=' + createHmac('sha256', secret).update(ts + '.' + rawBody, 'utf8').digest('hex'));
  const given = Buffer.from(sig);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

let http: HttpReceiver;
let smtp: SmtpReceiver;
beforeAll(async () => {
  http = await startHttpReceiver();
  smtp = await startSmtpReceiver(SMTP);
});
afterAll(async () => {
  await http?.close();
  await smtp?.close();
  // Nothing any sink wrote or any error said, logged unscrubbed, holds a secret.
  const all = logLines.join('\n');
  for (const s of SECRETS) expect(all).not.toContain(s);
  expect(logLines.length).toBeGreaterThan(10);
});
beforeEach(() => {
  http.requests.length = 0;
  http.reply({ status: 200, body: 'ok' });
});

const hostile = sampleAlert({
  kind: 'opened', alertId: 'alert-0001', severity: 'high',
  resourceName: '<!channel> <script>alert(1)</script> *bold*',
  facts: { token_name: '<@U123> <https://evil.example|click>', policies: 3 },
});
const slackConfig = () => ({ webhookUrl: `${http.url}${SLACK_PATH}` });

describe('slack', () => {
  it('posts the Block Kit payload to the webhook URL', async () => {
    const res = await deliver('slack', hostile, slackConfig());
    expect(http.requests).toHaveLength(1);
    const req = http.requests[0]!;
    expect(req.path).toBe(SLACK_PATH);
    expect(req.headers['content-type']).toBe('application/json');
    expect(JSON.parse(req.rawBody)).toEqual(buildSlackPayload(hostile, { digestLinesPerSeverity: 10 }));
    expect(req.rawBody).not.toMatch(/<!channel>|<@U123>|<script>/);
    expect(res.detail).toBe(`HTTP 200 from ${new URL(http.url).host}`);
  });

  it('a 500 is a retryable error naming the sink and status, never the secret path', async () => {
    http.replyNext(1, { status: 500, body: `internal error at ${SLACK_PATH}` });
    const err = await rejection(deliver('slack', hostile, slackConfig()));
    expect(err).toBeInstanceOf(RetryableSinkError);
    expect(err).not.toBeInstanceOf(PermanentSinkError);
    expect(err.message).toContain('slack: HTTP 500 from 127.0.0.1:');
    expect(err.message).not.toContain('slackSecretPathXyz123');
    // The retry goes through.
    await deliver('slack', hostile, slackConfig());
    expect(http.requests).toHaveLength(2);
  });

  it('a receiver that is down is a retryable error naming the sink', async () => {
    const err = await rejection(deliver('slack', hostile, { webhookUrl: await downUrl(SLACK_PATH) }));
    expect(err).toBeInstanceOf(RetryableSinkError);
    expect(err.message).toMatch(/^slack: request to 127\.0\.0\.1:\d+ failed \(ECONNREFUSED\)$/);
  });

  it('a 404 (channel gone) is permanent', async () => {
    http.replyNext(1, { status: 404, body: 'no_service' });
    const err = await rejection(deliver('slack', hostile, slackConfig()));
    expect(err).toBeInstanceOf(PermanentSinkError);
    expect(err.message).toMatch(/^slack: HTTP 404 from 127\.0\.0\.1:\d+: no_service$/);
  });

  it('a slow receiver times out as retryable; shutdown aborts the send', async () => {
    http.replyNext(1, { status: 200, delayMs: 2_000 });
    const slow = await rejection(deliver('slack', hostile, { ...slackConfig(), timeoutMs: 200 }));
    expect(slow).toBeInstanceOf(RetryableSinkError);
    expect(slow.message).toContain('(timed out)');
    http.replyNext(1, { status: 200, delayMs: 2_000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const aborted = await rejection(deliver('slack', hostile, slackConfig(), { log, signal: ac.signal }));
    expect(aborted.message).toContain('(aborted)');
  });
});

describe('webhook', () => {
  const config = () => ({ url: `${http.url}/hooks/flarewatch`, secret: WEBHOOK_SECRET });

  it('signs the raw body with the timestamp; an independent verifier accepts it and rejects tampering', async () => {
    await deliver('webhook', hostile, config());
    const req = http.requests[0]!;
    const now = Math.floor(Date.now() / 1000);
    expect(Math.abs(Number(req.headers['x-flarewatch-timestamp']) - now)).toBeLessThan(5);
    expect(req.headers['x-flarewatch-signature']).toMatch(/^v1=[0-9a-f]{64}$/);
    expect(req.headers['idempotency-key']).toBe('alert-0001');
    expect(verifyWebhook(req.headers, req.rawBody, WEBHOOK_SECRET, now)).toBe(true);
    expect(verifyWebhook(req.headers, req.rawBody.replace('"high"', '"low"'), WEBHOOK_SECRET, now)).toBe(false);
    expect(verifyWebhook(req.headers, req.rawBody + ' ', WEBHOOK_SECRET, now)).toBe(false);
    expect(verifyWebhook(req.headers, req.rawBody, 'another-secret-0123456789', now)).toBe(false);
    const body = JSON.parse(req.rawBody);
    expect(body).toMatchObject({ version: 1, type: 'finding.opened', alert_id: 'alert-0001', finding: { severity: 'high', resource: { name: hostile.resourceName } } });
    expect(req.rawBody).not.toContain(WEBHOOK_SECRET);
  });

  it('a stale timestamp is rejected by the verifier even with a valid signature', async () => {
    const tenMinutesAgo = new Date(Date.now() - 600_000);
    await deliver('webhook', hostile, config(), { log, now: () => tenMinutesAgo });
    const req = http.requests[0]!;
    const now = Math.floor(Date.now() / 1000);
    expect(verifyWebhook(req.headers, req.rawBody, WEBHOOK_SECRET, now)).toBe(false);
    expect(verifyWebhook(req.headers, req.rawBody, WEBHOOK_SECRET, Math.floor(tenMinutesAgo.getTime() / 1000))).toBe(true);
  });

  it('a retry carries the same idempotency key and body', async () => {
    http.replyNext(1, { status: 503 });
    expect(await rejection(deliver('webhook', hostile, config()))).toBeInstanceOf(RetryableSinkError);
    await deliver('webhook', hostile, config());
    expect(http.requests.map((r) => r.headers['idempotency-key'])).toEqual(['alert-0001', 'alert-0001']);
    expect(http.requests[0]!.rawBody).toBe(http.requests[1]!.rawBody);
  });

  it('429 is retryable with Retry-After; 400 is permanent; down is retryable', async () => {
    http.replyNext(1, { status: 429, headers: { 'retry-after': '7' } });
    const throttled = await rejection(deliver('webhook', hostile, config()));
    expect(throttled).toBeInstanceOf(RetryableSinkError);
    expect((throttled as RetryableSinkError).retryAfterMs).toBe(7000);
    http.replyNext(1, { status: 400, body: `bad signature for ${WEBHOOK_SECRET}` });
    const bad = await rejection(deliver('webhook', hostile, config()));
    expect(bad).toBeInstanceOf(PermanentSinkError);
    expect(bad.message).toContain('webhook: HTTP 400');
    expect(bad.message).not.toContain(WEBHOOK_SECRET);
    const down = await rejection(deliver('webhook', hostile, { ...config(), url: await downUrl() }));
    expect(down).toBeInstanceOf(RetryableSinkError);
    expect(down.message).toContain('webhook: request to 127.0.0.1');
  });

  it('a digest is one signed request with the events as an array', async () => {
    const digest = sampleDigest([hostile, sampleAlert({ severity: 'critical' })], { alertId: 'digest-1' });
    await deliver('webhook', digest, config());
    const req = http.requests[0]!;
    expect(verifyWebhook(req.headers, req.rawBody, WEBHOOK_SECRET, Math.floor(Date.now() / 1000))).toBe(true);
    const body = JSON.parse(req.rawBody);
    expect(body.type).toBe('digest');
    expect(body.events.map((e: { finding: { severity: string } }) => e.finding.severity)).toEqual(['critical', 'high']);
  });
});

describe('pagerduty', () => {
  const config = () => ({ routingKey: ROUTING_KEY, baseUrl: http.url });

  it('triggers, then resolves with the same dedup key; severity mapped; digests are not sent', async () => {
    http.reply({ status: 202, body: '{"status":"success","message":"Event processed"}' });
    const trigger = await deliver('pagerduty', hostile, config());
    const resolve = await deliver('pagerduty', { ...hostile, kind: 'resolved', alertId: 'alert-0002' }, config());
    const skipped = await deliver('pagerduty', sampleDigest([hostile]), config());
    expect(http.requests.map((r) => r.path)).toEqual(['/v2/enqueue', '/v2/enqueue']);
    const [t, r] = http.requests.map((q) => JSON.parse(q.rawBody));
    expect(t).toMatchObject({ routing_key: ROUTING_KEY, event_action: 'trigger', dedup_key: hostile.fingerprint, payload: { severity: 'error', custom_details: hostile.facts } });
    expect(t.payload.summary).toContain(hostile.resourceName);
    expect(t.links).toEqual([{ href: hostile.dashboardUrl, text: 'Cloudflare dashboard' }]);
    expect(r).toEqual({ routing_key: ROUTING_KEY, event_action: 'resolve', dedup_key: hostile.fingerprint });
    expect(trigger.detail).toContain(`trigger ${hostile.fingerprint}: HTTP 202`);
    expect(resolve.detail).toContain('resolve');
    expect(skipped.detail).toBe('skipped: digests are not sent to PagerDuty');
    for (const d of [trigger.detail, resolve.detail]) expect(d).not.toContain(ROUTING_KEY);
  });

  it('a 400 echoing the routing key is permanent and the key is blanked out', async () => {
    http.replyNext(1, { status: 400, body: `{"status":"invalid event","errors":["bad routing_key ${ROUTING_KEY}"]}` });
    const err = await rejection(deliver('pagerduty', hostile, config()));
    expect(err).toBeInstanceOf(PermanentSinkError);
    expect(err.message).toContain('[REDACTED]');
    expect(err.message).not.toContain(ROUTING_KEY);
  });
});

describe('teams', () => {
  it('posts an Adaptive Card; the signature in the query never appears in an error', async () => {
    const webhookUrl = `${http.url}/workflows/abc/triggers/manual/paths/invoke${TEAMS_QUERY}`;
    await deliver('teams', hostile, { webhookUrl });
    const body = JSON.parse(http.requests[0]!.rawBody);
    expect(body.attachments[0].contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(http.requests[0]!.rawBody).not.toContain('<!channel>');
    http.replyNext(1, { status: 502 });
    const err = await rejection(deliver('teams', hostile, { webhookUrl }));
    expect(err).toBeInstanceOf(RetryableSinkError);
    expect(err.message).toMatch(/^teams: HTTP 502 from 127\.0\.0\.1:\d+$/);
  });
});

describe('log', () => {
  it('writes the event as one structured line', async () => {
    const before = logLines.length;
    await SINKS.log.send(hostile, SINKS.log.schema.parse({}), ctx);
    const line = JSON.parse(logLines[before]!);
    expect(line).toMatchObject({ level: 40, sink: 'log', msg: 'alert opened: API token has no expiry', alert: { alertId: 'alert-0001', resourceName: hostile.resourceName, facts: hostile.facts } });
  });
});

describe('email', () => {
  const config = (over: Record<string, unknown> = {}) => ({
    host: smtp.host, port: smtp.port, starttls: 'disabled', user: SMTP.user, password: SMTP.password,
    from: 'Flarewatch <alerts@flarewatch.example>', to: ['secops@example.com', 'oncall@example.com'], ...over,
  });

  it('delivers text and HTML, escaped, with threading headers; a resolution threads under its opening', async () => {
    smtp.messages.length = 0;
    const opened = await deliver('email', hostile, config());
    await deliver('email', { ...hostile, kind: 'resolved', alertId: 'alert-0002' }, config());
    expect(smtp.messages).toHaveLength(2);
    const [first, second] = smtp.messages;
    expect(first!.user).toBe(SMTP.user);
    expect(first!.envelope.to).toEqual(['secops@example.com', 'oncall@example.com']);
    const m = first!.parsed;
    expect(m.subject).toBe('[flarewatch] [HIGH] API token has no expiry: <!channel> <script>alert(1)</script> *bold*');
    expect(m.text).toContain('token: <!channel> <script>alert(1)</script> *bold*');
    expect(m.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(m.html).not.toMatch(/<script|<img/);
    expect(m.messageId).toBe('<alert.alert-0001@flarewatch.example>');
    expect(opened.detail).toContain('<alert.alert-0001@flarewatch.example>');
    const thread = m.references;
    expect(typeof thread).toBe('string');
    expect(second!.parsed.inReplyTo).toBe(thread);
    expect(second!.parsed.references).toBe(thread);
    expect(second!.parsed.subject).toMatch(/^\[flarewatch\] Resolved /);
    for (const msg of smtp.messages) expect(msg.raw).not.toContain(SMTP.password);
  });

  it('a digest is one message with an HTML table', async () => {
    smtp.messages.length = 0;
    await deliver('email', sampleDigest([hostile, sampleAlert({ severity: 'critical' })]), config());
    expect(smtp.messages[0]!.parsed.html).toMatch(/Critical \(1\)<\/th>[\s\S]*High \(1\)<\/th>/);
  });

  it('a wrong password is permanent and the password is in no error', async () => {
    const err = await rejection(deliver('email', hostile, config({ password: `${SMTP.password}-wrong` })));
    expect(err).toBeInstanceOf(PermanentSinkError);
    expect(err.message).toMatch(/^email: SMTP EAUTH 535 from 127\.0\.0\.1:\d+/);
    expect(err.message).not.toContain(SMTP.password);
    expect(JSON.stringify({ ...err, stack: err.stack })).not.toContain(SMTP.password);
  });

  it('a server that is down is retryable', async () => {
    const port = Number(new URL(await downUrl()).port);
    const err = await rejection(deliver('email', hostile, config({ port })));
    expect(err).toBeInstanceOf(RetryableSinkError);
    expect(err.message).toMatch(/^email: SMTP E[A-Z]+ ECONNREFUSED from 127\.0\.0\.1:\d+/);
  });
});
