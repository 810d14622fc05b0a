// The email sink's message: subject, threading headers, text and HTML bodies. Pure.
// Every untrusted value is HTML-escaped in the HTML part and stripped of line breaks
// wherever it reaches a header. No images, no remote resources, inline styles only.
import { createHash } from 'node:crypto';
import {
  accountLabel, ackHint, digestCounts, factEntries, groupDigest, headline, isDigest, isSummary, kindLine, resolutionBy, resolvedLabel, resourceLabel, safeUrl,
  SEVERITY_LABEL, summaryDetail, summaryHeadline, type DigestSeverityGroup,
} from '../content.js';
import { escapeHtml, stripHeaderBreaks, truncate } from '../escape.js';
import { type AlertEvent, type Deliverable, type DigestEvent, isRemediationKind, type SummaryEvent } from '../types.js';

export const EMAIL_LIMITS = { subject: 200, name: 1000, factKey: 200, factValue: 2000, facts: 50, digestRows: 500 };

export interface EmailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string;
  /** `<alert.<alertId>@domain>`: the same on every retry of one alert. */
  messageId: string;
  /** The finding's thread root, so every message about one finding threads together. */
  inReplyTo?: string;
  references?: string[];
  headers: Record<string, string>;
}

export interface EmailRenderConfig {
  from: string;
  to: string[];
  subjectPrefix: string;
}

/** Domain for generated Message-IDs: the sender's, else a fixed one. */
export function messageIdDomain(from: string): string {
  const m = /@([A-Za-z0-9.-]+)>?\s*$/.exec(from.trim());
  return m?.[1] ?? 'flarewatch.invalid';
}

const idPart = (s: string) => s.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 128);
export const alertMessageId = (alertId: string, domain: string) => `<alert.${idPart(alertId)}@${domain}>`;
export const threadMessageId = (fingerprint: string, domain: string) =>
  `<finding.${createHash('sha256').update(fingerprint).digest('hex').slice(0, 32)}@${domain}>`;

const h = (s: string, max: number) => escapeHtml(truncate(s, max));
const oneLine = (s: string, max: number) => truncate(stripHeaderBreaks(s), max);
const SEV_COLOR = { critical: '#b00020', high: '#d35400', medium: '#b7950b', low: '#2471a3', info: '#616a6b' } as const;

function subjectFor(e: AlertEvent, prefix: string): string {
  // A remediation step's title names its object already: "Remediation failed: token-disable ci key (plan 3, action 1)".
  if (isRemediationKind(e.kind)) return oneLine(`${prefix} ${headline(e)}: ${stripHeaderBreaks(e.title)}`.trim(), EMAIL_LIMITS.subject);
  const what = e.kind === 'resolved' || isRemediationKind(e.kind) ? headline(e) : `[${SEVERITY_LABEL[e.severity].toUpperCase()}]`;
  return oneLine(`${prefix} ${what} ${stripHeaderBreaks(e.title)}: ${stripHeaderBreaks(resourceLabel(e))}`.trim(), EMAIL_LIMITS.subject);
}

function detailRows(e: AlertEvent): Array<[string, string]> {
  const rows: Array<[string, string]> = [[e.resourceType, resourceLabel(e)]];
  if (e.resourceName?.trim()) rows.push(['key', e.resourceKey]);
  const account = accountLabel(e);
  if (account) rows.push(['account', account]);
  rows.push(['rule', e.ruleId], ['first seen', e.firstSeenAt]);
  const by = resolutionBy(e.resolution);
  if (by) rows.push(['closed', by]);
  return rows;
}

const TD = (extra = '') => `style="padding:4px 8px;border:1px solid #ddd;vertical-align:top${extra}"`;
const TH = (extra = '') => `style="padding:4px 8px;border:1px solid #ddd;text-align:left;background:#f4f4f4${extra}"`;

function htmlTable(rows: Array<[string, string]>, keyMax: number, valueMax: number): string {
  const trs = rows.map(([k, v]) => `<tr><th ${TH()}>${h(k, keyMax)}</th><td ${TD(';white-space:pre-wrap')}>${h(v, valueMax)}</td></tr>`);
  return `<table style="border-collapse:collapse;font-size:14px">${trs.join('')}</table>`;
}

function eventHtml(e: AlertEvent): string {
  const url = safeUrl(e.dashboardUrl);
  const parts = [
    `<h2 style="margin:0 0 8px;color:${SEV_COLOR[e.severity]}">${h(headline(e), 80)}: ${h(e.title, 300)}</h2>`,
    `<p style="margin:0 0 12px">${h(kindLine(e), 300)}</p>`,
    htmlTable(detailRows(e), 50, EMAIL_LIMITS.name),
  ];
  const hint = ackHint(e);
  if (hint) parts.push(`<p style="margin:12px 0">${h(hint, 300)}</p>`);
  if (e.kind !== 'resolved') {
    const facts = factEntries(e.facts, EMAIL_LIMITS.facts);
    if (facts.length) parts.push('<h3 style="margin:16px 0 8px">Facts</h3>', htmlTable(facts, EMAIL_LIMITS.factKey, EMAIL_LIMITS.factValue));
    if (e.remediation) parts.push('<h3 style="margin:16px 0 8px">Remediation</h3>', `<p style="white-space:pre-wrap">${h(e.remediation, 4000)}</p>`);
    if (url) parts.push(`<p><a href="${escapeHtml(url)}">Open in the Cloudflare dashboard</a></p>`);
  }
  return page(parts.join('\n'));
}

function eventText(e: AlertEvent): string {
  const lines = [
    `${headline(e)}: ${truncate(e.title, 300)}`,
    kindLine(e),
    '',
    ...detailRows(e).map(([k, v]) => `${k}: ${truncate(stripHeaderBreaks(v), EMAIL_LIMITS.name)}`),
  ];
  const hint = ackHint(e);
  if (hint) lines.push('', hint);
  if (e.kind !== 'resolved') {
    const facts = factEntries(e.facts, EMAIL_LIMITS.facts);
    if (facts.length) lines.push('', 'Facts:', ...facts.map(([k, v]) => `  ${truncate(stripHeaderBreaks(k), EMAIL_LIMITS.factKey)}: ${truncate(v, EMAIL_LIMITS.factValue)}`));
    if (e.remediation) lines.push('', 'Remediation:', truncate(e.remediation, 4000));
    const url = safeUrl(e.dashboardUrl);
    if (url) lines.push('', `Cloudflare dashboard: ${url}`);
  }
  return lines.join('\n') + '\n';
}

function page(body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"></head><body style="font-family:sans-serif;color:#222">\n${body}\n<p style="color:#888;font-size:12px">Sent by flarewatch.</p></body></html>`;
}

/** Digest rows in group order, capped at `max` in total. */
function digestRows(groups: DigestSeverityGroup[], max: number) {
  const rows: Array<{ g: DigestSeverityGroup; rule: DigestSeverityGroup['rules'][number]; e: AlertEvent }> = [];
  for (const g of groups) for (const rule of g.rules) for (const e of rule.events) if (rows.length < max) rows.push({ g, rule, e });
  return rows;
}

function digestHtml(d: DigestEvent, groups: DigestSeverityGroup[]): string {
  const rows = digestRows(groups, EMAIL_LIMITS.digestRows);
  const trs: string[] = [];
  let last: DigestSeverityGroup | undefined;
  for (const { g, rule, e } of rows) {
    if (g !== last) {
      trs.push(`<tr><th colspan="4" ${TH(`;color:${SEV_COLOR[g.severity]}`)}>${SEVERITY_LABEL[g.severity]} (${g.count})</th></tr>`);
      last = g;
    }
    trs.push(`<tr><td ${TD()}>${h(rule.title, 300)}</td><td ${TD()}>${h(e.ruleId, 200)}</td><td ${TD()}>${h(resourceLabel(e), 300)}</td><td ${TD()}>${h(accountLabel(e) ?? '', 200)}</td></tr>`);
  }
  const more = d.events.length - rows.length;
  return page([
    `<h2 style="margin:0 0 8px">Flarewatch digest: ${d.events.length} findings</h2>`,
    `<p>${h(d.period.from, 40)} → ${h(d.period.to, 40)} · ${h(digestCounts(groups), 200)}</p>`,
    `<table style="border-collapse:collapse;font-size:14px"><tr><th ${TH()}>Rule</th><th ${TH()}>Rule id</th><th ${TH()}>Resource</th><th ${TH()}>Account</th></tr>${trs.join('')}</table>`,
    more > 0 ? `<p>and ${more} more</p>` : '',
  ].join('\n'));
}

function digestText(d: DigestEvent, groups: DigestSeverityGroup[]): string {
  const lines = [`Flarewatch digest: ${d.events.length} findings (${digestCounts(groups)})`, `${d.period.from} → ${d.period.to}`];
  let last: DigestSeverityGroup | undefined;
  const rows = digestRows(groups, EMAIL_LIMITS.digestRows);
  for (const { g, rule, e } of rows) {
    if (g !== last) lines.push('', `${SEVERITY_LABEL[g.severity]} (${g.count})`);
    last = g;
    const account = accountLabel(e);
    lines.push(`  - ${truncate(rule.title, 300)} [${e.ruleId}]: ${truncate(stripHeaderBreaks(resourceLabel(e)), 300)}${account ? ` (${truncate(stripHeaderBreaks(account), 200)})` : ''}`);
  }
  if (d.events.length > rows.length) lines.push('', `and ${d.events.length - rows.length} more`);
  return lines.join('\n') + '\n';
}

const summaryName = (i: SummaryEvent['top'][number]) => (i.resourceName?.trim() ? i.resourceName : i.resourceKey);

function summaryMessage(s: SummaryEvent, subjectPrefix: string) {
  const hint = `No alert was sent for these one by one. List them: ${s.listCommand}. From now on, new findings alert as they appear.`;
  const text = [summaryHeadline(s), summaryDetail(s), '', ...s.top.map((i) => `  - [${i.severity}] ${truncate(i.title, 300)}: ${truncate(stripHeaderBreaks(summaryName(i)), 300)}`), '', hint].join('\n') + '\n';
  const rows = s.top.map((i) => `<tr><td ${TD()}>${h(i.severity, 20)}</td><td ${TD()}>${h(i.title, 300)}</td><td ${TD()}>${h(summaryName(i), 300)}</td><td ${TD()}>${h(i.accountName ?? '', 200)}</td></tr>`);
  const html = page([
    `<h2 style="margin:0 0 8px">${h(summaryHeadline(s), 300)}</h2>`,
    `<p>${h(summaryDetail(s), 300)}</p>`,
    rows.length ? `<table style="border-collapse:collapse;font-size:14px">${rows.join('')}</table>` : '',
    `<p>${h(hint, 500)}</p>`,
  ].join('\n'));
  return { subject: oneLine(`${subjectPrefix} ${summaryHeadline(s)}`, EMAIL_LIMITS.subject), text, html };
}

export function buildEmailPayload(event: Deliverable, config: EmailRenderConfig): EmailMessage {
  const domain = messageIdDomain(config.from);
  const base = { from: config.from, to: config.to, messageId: alertMessageId(event.alertId, domain) };
  if (isSummary(event)) return { ...base, ...summaryMessage(event, config.subjectPrefix), headers: { 'X-Flarewatch-Alert-Id': stripHeaderBreaks(event.alertId) } };
  if (isDigest(event)) {
    const groups = groupDigest(event.events);
    return {
      ...base,
      subject: oneLine(`${config.subjectPrefix} Digest: ${event.events.length} findings (${digestCounts(groups)})`, EMAIL_LIMITS.subject),
      text: digestText(event, groups),
      html: digestHtml(event, groups),
      headers: { 'X-Flarewatch-Alert-Id': stripHeaderBreaks(event.alertId) },
    };
  }
  const thread = threadMessageId(event.fingerprint, domain);
  return {
    ...base,
    subject: subjectFor(event, config.subjectPrefix),
    text: eventText(event),
    html: eventHtml(event),
    // A remediation step starts its own thread, as an opening does.
    ...(event.kind === 'opened' || isRemediationKind(event.kind) ? {} : { inReplyTo: thread }),
    references: [thread],
    headers: { 'X-Flarewatch-Alert-Id': stripHeaderBreaks(event.alertId), 'X-Flarewatch-Severity': event.severity },
  };
}
