// Every sink, one entry each, all with the same shape (STYLE.md #9).
import type { z } from 'zod';
import type { Deliverable, SendResult, Sender, SinkContext } from '../types.js';
import * as email from './email.js';
import * as log from './log.js';
import * as pagerduty from './pagerduty.js';
import * as slack from './slack.js';
import * as teams from './teams.js';
import * as webhook from './webhook.js';

export const SINK_KINDS = ['slack', 'webhook', 'email', 'pagerduty', 'teams', 'log'] as const;
export type SinkKind = (typeof SINK_KINDS)[number];

export interface SinkModule<S extends z.ZodType> {
  /** Validates one sink's settings; secrets are required strings with no defaults. */
  schema: S;
  send: Sender<z.output<S>>;
  /** The secret values in a parsed config, for the logger's scrub list. */
  secrets: (config: z.output<S>) => string[];
}

const sink = <S extends z.ZodType>(m: SinkModule<S>) => m;

export const SINKS = {
  slack: sink({ schema: slack.slackConfigSchema, send: slack.send, secrets: slack.secrets }),
  webhook: sink({ schema: webhook.webhookConfigSchema, send: webhook.send, secrets: webhook.secrets }),
  email: sink({ schema: email.emailConfigSchema, send: email.send, secrets: email.secrets }),
  pagerduty: sink({ schema: pagerduty.pagerdutyConfigSchema, send: pagerduty.send, secrets: pagerduty.secrets }),
  teams: sink({ schema: teams.teamsConfigSchema, send: teams.send, secrets: teams.secrets }),
  log: sink({ schema: log.logConfigSchema, send: log.send, secrets: log.secrets }),
} satisfies Record<SinkKind, SinkModule<z.ZodType>>;

export type SinkConfig<K extends SinkKind> = z.output<(typeof SINKS)[K]['schema']>;

/** Parse `rawConfig` with the sink's schema (throws a ZodError naming the keys) and send. */
export function sendTo(kind: SinkKind, event: Deliverable, rawConfig: unknown, ctx: SinkContext): Promise<SendResult> {
  const entry = SINKS[kind] as unknown as SinkModule<z.ZodType>;
  return entry.send(event, entry.schema.parse(rawConfig), ctx);
}

export const isSinkKind = (s: string): s is SinkKind => (SINK_KINDS as readonly string[]).includes(s);
