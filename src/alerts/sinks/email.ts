// Email over SMTP (nodemailer). The message is built by email-render.ts; this file owns the
// config, the transport and the error classification. The password never reaches a message.
import nodemailer from 'nodemailer';
import { scrub } from '../../log.js';
import type { EmailConfig } from '../../config/sinks.js';
import { truncate } from '../escape.js';
import { RetryableSinkError } from '../http.js';
import { PermanentSinkError, type Sender } from '../types.js';
import { buildEmailPayload as render, type EmailMessage } from './email-render.js';
import type { Deliverable } from '../types.js';

export function buildEmailPayload(event: Deliverable, config: Pick<EmailConfig, 'from' | 'to' | 'subjectPrefix'>): EmailMessage {
  return render(event, config);
}

interface SmtpError {
  code?: string;
  responseCode?: number;
  command?: string;
  response?: string;
}

// Failures retrying cannot fix: refused credentials, a refused sender or recipient, a
// message the server rejects for good (5xx), a TLS setup the server cannot satisfy.
const PERMANENT_CODES = new Set(['EAUTH', 'ENOAUTH', 'EENVELOPE', 'EMESSAGE', 'ETLS', 'EOAUTH2']);

function classify(err: unknown, config: EmailConfig): Error {
  const e = (err ?? {}) as SmtpError;
  const where = `${config.host}:${config.port}`;
  // Build the message from fields we choose: never the error's own text, which could quote a command.
  const response = e.response ? `: ${truncate(scrub(e.response.replace(/\s+/g, ' '), smtpSecrets(config)), 200)}` : '';
  const socket = err instanceof Error ? /\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EPIPE)\b/.exec(err.message)?.[1] : undefined;
  const what = [e.code, e.responseCode, socket].filter(Boolean).join(' ') || 'error';
  const message = `email: SMTP ${what} from ${where}${e.command ? ` (${truncate(scrub(e.command, smtpSecrets(config)), 40)})` : ''}${response}`;
  const permanent = PERMANENT_CODES.has(e.code ?? '') || (e.responseCode !== undefined && e.responseCode >= 500);
  return permanent ? new PermanentSinkError(message) : new RetryableSinkError(message, 'email', e.responseCode);
}

/** The SMTP password, alone and as it appears base64-encoded in an AUTH PLAIN line. */
const smtpSecrets = (config: EmailConfig) =>
  config.password ? [config.password, Buffer.from(`\0${config.user}\0${config.password}`).toString('base64')] : [];

export const send: Sender<EmailConfig> = async (event, config, ctx) => {
  const message = buildEmailPayload(event, config);
  const transport = nodemailer.createTransport({
    host: config.host,
    port: config.port,
    secure: config.secure,
    requireTLS: !config.secure && config.starttls === 'required',
    ignoreTLS: !config.secure && config.starttls === 'disabled',
    tls: { rejectUnauthorized: config.tlsRejectUnauthorized },
    ...(config.user && config.password ? { auth: { user: config.user, pass: config.password } } : {}),
    connectionTimeout: config.timeoutMs,
    greetingTimeout: config.timeoutMs,
    socketTimeout: config.timeoutMs,
    logger: false,
    debug: false,
  });
  const onAbort = () => transport.close();
  ctx.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    if (ctx.signal?.aborted) throw new RetryableSinkError('email: aborted', 'email');
    const info = await transport.sendMail(message);
    const rejected = info.rejected.length ? `, ${info.rejected.length} recipient(s) refused` : '';
    return { detail: `accepted by ${config.host}:${config.port} as ${info.messageId}${rejected}` };
  } catch (err) {
    if (err instanceof RetryableSinkError) throw err;
    if (ctx.signal?.aborted) throw new RetryableSinkError('email: aborted', 'email');
    throw classify(err, config);
  } finally {
    ctx.signal?.removeEventListener('abort', onAbort);
    transport.close();
  }
};
