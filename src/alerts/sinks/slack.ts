// Slack incoming webhook: one Block Kit message per event, a grouped one per digest.
// Untrusted values are shown as escaped inline code (escape.ts#slackLiteral).
import type { SlackConfig } from '../../config/sinks.js';
import {
  accountLabel, ackHint, digestCounts, factEntries, groupDigest, headline, headlineIcon, isDigest, isSummary, kindLine, resolutionBy, resolvedLabel,
  resourceLabel, safeUrl, SEVERITY_EMOJI, SEVERITY_LABEL, summaryDetail, summaryHeadline,
} from '../content.js';
import { isQuiet } from '../intents.js';
import { capEscaped, escapeSlack, slackLiteral, truncate } from '../escape.js';
import { hostOf, postJson } from '../http.js';
import { type AlertEvent, type Deliverable, type DigestEvent, isRemediationKind, type Sender, type SummaryEvent } from '../types.js';

/** Block Kit limits (api.slack.com/reference/block-kit). */
export const SLACK_LIMITS = { header: 150, section: 3000, field: 2000, fields: 10, blocks: 50, text: 3000, buttonUrl: 3000 };

type Text = { type: 'plain_text' | 'mrkdwn'; text: string; emoji?: boolean; verbatim?: boolean };
export type SlackBlock =
  | { type: 'header'; text: Text }
  | { type: 'section'; text?: Text; fields?: Text[] }
  | { type: 'context'; elements: Text[] }
  | { type: 'divider' }
  | { type: 'actions'; elements: Array<{ type: 'button'; text: Text; url: string; action_id: string }> };
export interface SlackPayload {
  text: string;
  blocks: SlackBlock[];
}

const md = (text: string, max: number = SLACK_LIMITS.section): Text => ({ type: 'mrkdwn', text: truncate(text, max), verbatim: true });
const plain = (text: string, max: number): Text => ({ type: 'plain_text', text: capEscaped(text.replace(/\s+/g, ' '), max, escapeSlack), emoji: true });
/** Trusted multi-line text (remediation, rationale from our rules): escaped, capped. */
const prose = (s: string, max: number) => capEscaped(s, max, escapeSlack);

function header(e: AlertEvent): string {
  const icon = headlineIcon(e);
  return `${icon} ${headline(e)}: ${e.title}`;
}

function resourceSection(e: AlertEvent): string {
  const lines = [`*${escapeSlack(e.resourceType)}:* ${slackLiteral(resourceLabel(e), 1200)}`];
  if (e.resourceName?.trim()) lines.push(`*Key:* ${slackLiteral(e.resourceKey, 600)}`);
  const account = accountLabel(e);
  if (account) lines.push(`*Account:* ${slackLiteral(account, 600)}`);
  return lines.join('\n');
}

function fallbackText(e: AlertEvent): string {
  const what = e.kind === 'resolved' || isRemediationKind(e.kind) ? headline(e) : `[${SEVERITY_LABEL[e.severity]}]`;
  return truncate(`${what} ${escapeSlack(e.title)}: ${slackLiteral(resourceLabel(e), 500)}`, SLACK_LIMITS.text);
}

function factBlocks(e: AlertEvent): SlackBlock[] {
  const fields = factEntries(e.facts, 20).map(([k, v]) =>
    md(`*${slackLiteral(k, 200)}*\n${slackLiteral(v, SLACK_LIMITS.field - 210)}`, SLACK_LIMITS.field));
  const blocks: SlackBlock[] = [];
  for (let i = 0; i < fields.length; i += SLACK_LIMITS.fields) {
    blocks.push({ type: 'section', fields: fields.slice(i, i + SLACK_LIMITS.fields) });
  }
  return blocks;
}

/** A resolution someone (or flarewatch) made: one quiet notice, the resource and who closed it. */
function quietPayload(e: AlertEvent): SlackPayload {
  const by = resolutionBy(e.resolution);
  const parts = [kindLine(e) === resolvedLabel(e) ? '' : escapeSlack(kindLine(e)), by ? slackLiteral(by, 600) : '', slackLiteral(resourceLabel(e), 300), `rule ${slackLiteral(e.ruleId, 200)}`];
  return { text: fallbackText(e), blocks: [{ type: 'context', elements: [md(`${escapeSlack(header(e))} — ${parts.filter(Boolean).join(' · ')}`)] }] };
}

function eventPayload(e: AlertEvent): SlackPayload {
  if (e.kind === 'resolved' && isQuiet(e.resolution)) return quietPayload(e);
  const blocks: SlackBlock[] = [
    { type: 'header', text: plain(header(e), SLACK_LIMITS.header) },
    { type: 'context', elements: [md(`${escapeSlack(kindLine(e))} · rule ${slackLiteral(e.ruleId, 300)}`)] },
    { type: 'section', text: md(resourceSection(e)) },
  ];
  if (e.kind === 'resolved') {
    blocks.push({ type: 'context', elements: [md('This finding no longer matches; nothing to do.')] });
    return { text: fallbackText(e), blocks };
  }
  const hint = ackHint(e);
  if (hint) blocks.push({ type: 'context', elements: [md(escapeSlack(hint))] });
  blocks.push(...factBlocks(e));
  if (e.remediation) blocks.push({ type: 'section', text: md(`*Remediation*\n${prose(e.remediation, SLACK_LIMITS.section - 20)}`) });
  const url = safeUrl(e.dashboardUrl, SLACK_LIMITS.buttonUrl);
  if (url) {
    blocks.push({
      type: 'actions',
      elements: [{ type: 'button', text: plain('Open in Cloudflare dashboard', 75), url, action_id: 'open_dashboard' }],
    });
  }
  return { text: fallbackText(e), blocks: blocks.slice(0, SLACK_LIMITS.blocks) };
}

/** One line per event in a digest section. */
const digestLine = (e: AlertEvent) => {
  const account = accountLabel(e);
  return `• ${slackLiteral(resourceLabel(e), 300)}${account ? ` in ${slackLiteral(account, 200)}` : ''}`;
};

function digestSection(g: ReturnType<typeof groupDigest>[number], maxLines: number): string {
  const lines = [`${SEVERITY_EMOJI[g.severity]} *${SEVERITY_LABEL[g.severity]}* (${g.count})`];
  const budget = SLACK_LIMITS.section - 40; // room for "and K more"
  let length = lines[0]!.length;
  let shown = 0;
  const add = (line: string) => {
    if (length + 1 + line.length > budget) return false;
    lines.push(line);
    length += 1 + line.length;
    return true;
  };
  outer: for (const rule of g.rules) {
    if (shown >= maxLines) break;
    if (!add(`*${prose(rule.title, 300)}* ${slackLiteral(rule.ruleId, 200)} (${rule.events.length})`)) break;
    for (const e of rule.events) {
      if (shown >= maxLines || !add(digestLine(e))) break outer;
      shown += 1;
    }
  }
  if (shown < g.count) lines.push(`_and ${g.count - shown} more_`);
  return lines.join('\n');
}

function digestPayload(d: DigestEvent, maxLines: number): SlackPayload {
  const groups = groupDigest(d.events);
  const total = d.events.length;
  const blocks: SlackBlock[] = [
    { type: 'header', text: plain(`Flarewatch digest: ${total} finding${total === 1 ? '' : 's'}`, SLACK_LIMITS.header) },
    { type: 'context', elements: [md(`${escapeSlack(d.period.from)} → ${escapeSlack(d.period.to)} · ${digestCounts(groups)}`)] },
  ];
  for (const g of groups) blocks.push({ type: 'divider' }, { type: 'section', text: md(digestSection(g, maxLines)) });
  return { text: `Flarewatch digest: ${total} findings (${digestCounts(groups)})`, blocks };
}

function summaryPayload(s: SummaryEvent): SlackPayload {
  const lines = s.top.map((i) => `${SEVERITY_EMOJI[i.severity]} ${prose(i.title, 200)}: ${slackLiteral(i.resourceName?.trim() ? i.resourceName : i.resourceKey, 200)}${i.accountName ? ` in ${slackLiteral(i.accountName, 100)}` : ''}`);
  const blocks: SlackBlock[] = [
    { type: 'header', text: plain(`👀 ${summaryHeadline(s)}`, SLACK_LIMITS.header) },
    { type: 'context', elements: [md(escapeSlack(summaryDetail(s)))] },
  ];
  if (lines.length) blocks.push({ type: 'section', text: md(`*Most severe*\n${lines.join('\n')}`) });
  blocks.push({ type: 'context', elements: [md(`No alert was sent for these one by one. List them: \`${escapeSlack(s.listCommand)}\` (or the open_findings view). From now on, new findings alert as they appear.`)] });
  return { text: summaryHeadline(s), blocks };
}

export function buildSlackPayload(event: Deliverable, config: Pick<SlackConfig, 'digestLinesPerSeverity'>): SlackPayload {
  if (isSummary(event)) return summaryPayload(event);
  return isDigest(event) ? digestPayload(event, config.digestLinesPerSeverity) : eventPayload(event);
}

export const send: Sender<SlackConfig> = async (event, config, ctx) => {
  const body = JSON.stringify(buildSlackPayload(event, config));
  const res = await postJson({ sink: 'slack', url: config.webhookUrl, body, timeoutMs: config.timeoutMs }, ctx);
  return { detail: `HTTP ${res.status} from ${hostOf(config.webhookUrl)}` };
};
