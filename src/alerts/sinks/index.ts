// Every sink, one entry each, all with the same shape (STYLE.md #9). Each sink's settings
// schema and secrets live in config/sinks.ts (the config layer); the sender is added here.
import type { z } from 'zod';
import { SINK_SETTINGS, type SinkKind, type SinkSettings } from '../../config/sinks.js';
import type { Deliverable, SendResult, Sender, SinkContext } from '../types.js';
import * as email from './email.js';
import * as log from './log.js';
import * as pagerduty from './pagerduty.js';
import * as slack from './slack.js';
import * as teams from './teams.js';
import * as webhook from './webhook.js';

export interface SinkModule<S extends z.ZodType> extends SinkSettings<S> {
  send: Sender<z.output<S>>;
}

const sink = <S extends z.ZodType>(m: SinkModule<S>) => m;

export const SINKS = {
  slack: sink({ ...SINK_SETTINGS.slack, send: slack.send }),
  webhook: sink({ ...SINK_SETTINGS.webhook, send: webhook.send }),
  email: sink({ ...SINK_SETTINGS.email, send: email.send }),
  pagerduty: sink({ ...SINK_SETTINGS.pagerduty, send: pagerduty.send }),
  teams: sink({ ...SINK_SETTINGS.teams, send: teams.send }),
  log: sink({ ...SINK_SETTINGS.log, send: log.send }),
} satisfies Record<SinkKind, SinkModule<z.ZodType>>;

/** Parse `rawConfig` with the sink's schema (throws a ZodError naming the keys) and send. */
export function sendTo(kind: SinkKind, event: Deliverable, rawConfig: unknown, ctx: SinkContext): Promise<SendResult> {
  const entry = SINKS[kind] as unknown as SinkModule<z.ZodType>;
  return entry.send(event, entry.schema.parse(rawConfig), ctx);
}
