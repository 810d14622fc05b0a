// Real receivers on loopback for the alert sinks: an HTTP server that records every request
// and can be told how to answer, and an SMTP server with authentication that records and
// parses every message. No mocks: the sinks talk to these over TCP.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { freePort } from './ports.js';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  rawBody: string;
}

export interface HttpReply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  delayMs?: number;
}

export interface HttpReceiver {
  /** Base URL, e.g. http://127.0.0.1:4711 */
  url: string;
  requests: RecordedRequest[];
  /** Answer every following request with this (default 200 "ok"). */
  reply(r: HttpReply): void;
  /** Answer the next `n` requests with `r`, then go back to the default. */
  replyNext(n: number, r: HttpReply): void;
  close(): Promise<void>;
}

export async function startHttpReceiver(): Promise<HttpReceiver> {
  const requests: RecordedRequest[] = [];
  let standing: HttpReply = { status: 200, body: 'ok' };
  const queue: HttpReply[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, rawBody: Buffer.concat(chunks).toString('utf8') });
      const r = queue.shift() ?? standing;
      const answer = () => {
        if (res.destroyed) return;
        res.writeHead(r.status, { 'content-type': 'text/plain', ...r.headers });
        res.end(r.body ?? '');
      };
      if (r.delayMs) setTimeout(answer, r.delayMs).unref();
      else answer();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reply: (r) => { standing = r; },
    replyNext: (n, r) => { for (let i = 0; i < n; i++) queue.push(r); },
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A URL on loopback where nothing listens: the receiver is "down". */
export async function downUrl(path = '/'): Promise<string> {
  return `http://127.0.0.1:${await freePort()}${path}`;
}

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  /** The user the client authenticated as. */
  user?: string;
  raw: string;
  parsed: ParsedMail;
}

export interface SmtpReceiver {
  host: string;
  port: number;
  messages: ReceivedMail[];
  close(): Promise<void>;
}

/** SMTP on 127.0.0.1 without TLS, requiring AUTH PLAIN/LOGIN with the given credentials. */
export async function startSmtpReceiver(creds: { user: string; password: string }): Promise<SmtpReceiver> {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    authMethods: ['PLAIN', 'LOGIN'],
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, cb) {
      if (auth.username === creds.user && auth.password === creds.password) return cb(null, { user: auth.username });
      return cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw).then((parsed) => {
          messages.push({
            envelope: {
              from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
            },
            user: typeof session.user === 'string' ? session.user : undefined,
            raw,
            parsed,
          });
          cb();
        }, cb);
      });
    },
  });
  const port = await new Promise<number>((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.server.address() as AddressInfo).port));
  });
  return {
    host: '127.0.0.1',
    port,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
