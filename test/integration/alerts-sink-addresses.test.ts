// Where a sink may send to. By default any http(s) URL (loopback and link-local included: a
// webhook on the same host is a normal setup); with alerts.refusePrivateAddresses the connection
// itself is refused. A URL with user:pass@ in it is a permanent error, and its password is said nowhere.
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sinkContext } from '../../src/alerts/deliver.js';
import { isPrivateAddress } from '../../src/alerts/guarded-fetch.js';
import { sampleAlert } from '../../src/alerts/sample.js';
import { sendTo } from '../../src/alerts/sinks/index.js';
import { PermanentSinkError, type SinkContext } from '../../src/alerts/types.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { startHttpReceiver, type HttpReceiver } from '../helpers/receivers.js';

const logLines: string[] = [];
const log = createLogger({ level: 'debug', format: 'json', secrets: [], destination: new Writable({ write(c, _e, cb) { logLines.push(String(c)); cb(); } }) });
const SECRET = 'whsec_test_0123456789abcdef';
let http: HttpReceiver;
const event = sampleAlert({}, new Date('2026-05-01T10:00:00Z'));

async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the send to fail');
}

beforeAll(async () => {
  http = await startHttpReceiver();
});
afterAll(async () => {
  await http?.close();
});

describe('alerts.refusePrivateAddresses', () => {
  const refusing: SinkContext = { log, refusePrivateAddresses: true };

  it('is off by default: a webhook on loopback gets its alert', async () => {
    const config = loadConfig({ FLAREWATCH_WEBHOOK_URL: `${http.url}/hook`, FLAREWATCH_WEBHOOK_SECRET: SECRET });
    expect(config.alerts.refusePrivateAddresses).toBe(false);
    const before = http.requests.length;
    await sendTo('webhook', event, { url: `${http.url}/hook`, secret: SECRET }, sinkContext({ log, now: () => new Date(), config }, 'webhook'));
    expect(http.requests.length).toBe(before + 1);
  });

  it('on, a sink on a loopback address, a name that resolves to loopback, or link-local metadata is refused for good, and nothing is sent', async () => {
    const config = loadConfig({ FLAREWATCH_ALERTS_REFUSE_PRIVATE: 'true' });
    expect(sinkContext({ log, now: () => new Date(), config }, 'x').refusePrivateAddresses).toBe(true);
    const before = http.requests.length;
    const port = new URL(http.url).port;
    for (const url of [`${http.url}/hook`, `http://localhost:${port}/hook`, `http://[::1]:${port}/hook`, 'http://169.254.169.254/latest/meta-data/']) {
      const err = await failure(sendTo('webhook', event, { url, secret: SECRET }, refusing));
      expect(err, url).toBeInstanceOf(PermanentSinkError);
      expect(err.message, url).toMatch(/resolves to (127\.0\.0\.1|::1|169\.254\.169\.254) \(loopback, link-local or private\), refused by alerts\.refusePrivateAddresses/);
    }
    expect(http.requests.length).toBe(before);
  });

  it('classifies addresses: loopback, link-local, RFC 1918, CGNAT, unique-local and mapped ones are private; public ones are not', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '10.1.2.3', '172.16.0.1', '172.31.255.255', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', 'fc12::3', '::ffff:127.0.0.1', '::ffff:10.0.0.1', '[::1]']) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
    for (const a of ['1.1.1.1', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:1.1.1.1']) expect(isPrivateAddress(a), a).toBe(false);
  });
});

describe('a sink URL with credentials in it', () => {
  it('is a permanent error (not a retry for ever), and neither the user nor the password is said', async () => {
    const url = `http://hookuser:Sup3rS3cretPw@127.0.0.1:${new URL(http.url).port}/hook`;
    const before = http.requests.length;
    const err = await failure(sendTo('webhook', event, { url, secret: SECRET }, { log }));
    expect(err).toBeInstanceOf(PermanentSinkError);
    expect(err.message).toBe(`webhook: the configured URL for 127.0.0.1:${new URL(http.url).port} carries a user name or password (user:pass@), which is refused; give the sink's credentials in its own settings`);
    expect(err.message).not.toMatch(/hookuser|Sup3rS3cretPw/);
    const slack = await failure(sendTo('slack', event, { webhookUrl: 'https://u:Sup3rS3cretPw@hooks.slack.com/services/T/B/x' }, { log }));
    expect(slack).toBeInstanceOf(PermanentSinkError);
    expect(slack.message).not.toMatch(/Sup3rS3cretPw/);
    expect(http.requests.length).toBe(before);
    expect(logLines.join('')).not.toMatch(/Sup3rS3cretPw/);
  });
});
