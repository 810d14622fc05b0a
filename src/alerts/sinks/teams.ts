// Microsoft Teams incoming webhook (Workflows or legacy connector) carrying an Adaptive
// Card. TextBlocks render Markdown, so every untrusted value is Markdown-escaped.
import type { TeamsConfig } from '../../config/sinks.js';
import {
  accountLabel, ackHint, digestCounts, factEntries, groupDigest, headline, headlineIcon, isDigest, isSummary, kindLine, resolutionBy, resolvedIcon, resolvedLabel,
  resourceLabel, safeUrl, SEVERITY_EMOJI, SEVERITY_LABEL, summaryDetail, summaryHeadline,
} from '../content.js';
import { isQuiet } from '../intents.js';
import { capEscaped, escapeMarkdown } from '../escape.js';
import { hostOf, postJson } from '../http.js';
import type { AlertEvent, Deliverable, DigestEvent, Sender, SummaryEvent } from '../types.js';

export const TEAMS_LIMITS = { title: 300, name: 500, factKey: 100, factValue: 500, facts: 20, remediation: 2000 };

type CardElement = Record<string, unknown>;
export interface TeamsPayload {
  type: 'message';
  attachments: Array<{
    contentType: 'application/vnd.microsoft.card.adaptive';
    content: { $schema: string; type: 'AdaptiveCard'; version: '1.4'; body: CardElement[]; actions?: CardElement[] };
  }>;
}

/** Untrusted text for a TextBlock or a FactSet: escaped, then capped. */
const md = (s: string, max: number) => capEscaped(s, max, escapeMarkdown);
const block = (text: string, extra: CardElement = {}): CardElement => ({ type: 'TextBlock', text, wrap: true, ...extra });
const SEV_COLOR = { critical: 'Attention', high: 'Attention', medium: 'Warning', low: 'Accent', info: 'Default' } as const;

function card(body: CardElement[], actions: CardElement[] = []): TeamsPayload {
  return {
    type: 'message',
    attachments: [{
      contentType: 'application/vnd.microsoft.card.adaptive',
      content: {
        $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
        type: 'AdaptiveCard',
        version: '1.4',
        body,
        ...(actions.length ? { actions } : {}),
      },
    }],
  };
}

function quietCard(e: AlertEvent): TeamsPayload {
  const by = resolutionBy(e.resolution);
  const parts = [kindLine(e) === resolvedLabel(e) ? '' : md(kindLine(e), 300), by ? md(by, 600) : '', md(resourceLabel(e), TEAMS_LIMITS.name)];
  const line = `${md(`${resolvedIcon(e)} ${resolvedLabel(e)}: ${e.title}`, TEAMS_LIMITS.title)} — ${parts.filter(Boolean).join(' · ')}`;
  return card([block(line, { isSubtle: true })]);
}

function eventCard(e: AlertEvent): TeamsPayload {
  if (e.kind === 'resolved' && isQuiet(e.resolution)) return quietCard(e);
  const icon = headlineIcon(e);
  const heading = `${icon} ${headline(e)}: ${e.title}`;
  const facts = [{ title: md(e.resourceType, TEAMS_LIMITS.factKey), value: md(resourceLabel(e), TEAMS_LIMITS.name) }];
  if (e.resourceName?.trim()) facts.push({ title: 'key', value: md(e.resourceKey, TEAMS_LIMITS.name) });
  const account = accountLabel(e);
  if (account) facts.push({ title: 'account', value: md(account, TEAMS_LIMITS.name) });
  facts.push({ title: 'rule', value: md(e.ruleId, TEAMS_LIMITS.name) });
  const body: CardElement[] = [
    block(md(heading, TEAMS_LIMITS.title), { size: 'Large', weight: 'Bolder', color: e.kind === 'resolved' ? 'Good' : SEV_COLOR[e.severity] }),
    block(md(kindLine(e), 300), { isSubtle: true, spacing: 'None' }),
    { type: 'FactSet', facts },
  ];
  if (e.kind === 'resolved') return card(body);
  const hint = ackHint(e);
  if (hint) body.push(block(md(hint, 300), { isSubtle: true }));
  const details = factEntries(e.facts, TEAMS_LIMITS.facts).map(([k, v]) => ({ title: md(k, TEAMS_LIMITS.factKey), value: md(v, TEAMS_LIMITS.factValue) }));
  if (details.length) body.push(block('**Facts**'), { type: 'FactSet', facts: details, spacing: 'None' });
  if (e.remediation) body.push(block('**Remediation**'), block(md(e.remediation, TEAMS_LIMITS.remediation), { spacing: 'None' }));
  const url = safeUrl(e.dashboardUrl);
  return card(body, url ? [{ type: 'Action.OpenUrl', title: 'Open in Cloudflare dashboard', url }] : []);
}

function digestCard(d: DigestEvent, maxLines: number): TeamsPayload {
  const groups = groupDigest(d.events);
  const body: CardElement[] = [
    block(`Flarewatch digest: ${d.events.length} findings`, { size: 'Large', weight: 'Bolder' }),
    block(md(`${d.period.from} → ${d.period.to} · ${digestCounts(groups)}`, 300), { isSubtle: true, spacing: 'None' }),
  ];
  for (const g of groups) {
    body.push(block(`${SEVERITY_EMOJI[g.severity]} **${SEVERITY_LABEL[g.severity]}** (${g.count})`, { separator: true }));
    let shown = 0;
    for (const rule of g.rules) {
      if (shown >= maxLines) break;
      body.push(block(`**${md(rule.title, TEAMS_LIMITS.title)}** (${rule.events.length})`, { spacing: 'Small' }));
      for (const e of rule.events.slice(0, maxLines - shown)) {
        const account = accountLabel(e);
        body.push(block(`• ${md(resourceLabel(e), TEAMS_LIMITS.name)}${account ? ` in ${md(account, 200)}` : ''}`, { spacing: 'None' }));
        shown += 1;
      }
    }
    if (shown < g.count) body.push(block(`_and ${g.count - shown} more_`, { spacing: 'None' }));
  }
  return card(body);
}

function summaryCard(s: SummaryEvent): TeamsPayload {
  const body: CardElement[] = [
    block(md(`👀 ${summaryHeadline(s)}`, TEAMS_LIMITS.title), { size: 'Large', weight: 'Bolder' }),
    block(md(summaryDetail(s), 300), { isSubtle: true, spacing: 'None' }),
  ];
  for (const i of s.top) {
    const name = i.resourceName?.trim() ? i.resourceName : i.resourceKey;
    body.push(block(`${SEVERITY_EMOJI[i.severity]} ${md(i.title, TEAMS_LIMITS.title)}: ${md(name, TEAMS_LIMITS.name)}${i.accountName ? ` in ${md(i.accountName, 200)}` : ''}`, { spacing: 'None' }));
  }
  body.push(block(md(`No alert was sent for these one by one. List them: ${s.listCommand}. From now on, new findings alert as they appear.`, 500), { isSubtle: true }));
  return card(body);
}

export function buildTeamsPayload(event: Deliverable, config: Pick<TeamsConfig, 'digestLinesPerSeverity'>): TeamsPayload {
  if (isSummary(event)) return summaryCard(event);
  return isDigest(event) ? digestCard(event, config.digestLinesPerSeverity) : eventCard(event);
}

export const send: Sender<TeamsConfig> = async (event, config, ctx) => {
  const body = JSON.stringify(buildTeamsPayload(event, config));
  const res = await postJson({ sink: 'teams', url: config.webhookUrl, body, timeoutMs: config.timeoutMs }, ctx);
  return { detail: `HTTP ${res.status} from ${hostOf(config.webhookUrl)}` };
};
