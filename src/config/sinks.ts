// Each alert sink's own settings (the part of `alerts.sinks.<name>` after kind and routing)
// and which of them are secrets. Here, not beside each sink's sender, so the config layer
// loads no sender, renderer or alert content (alerts/sinks/ imports this, never the reverse).
import { z } from 'zod';

export const SINK_KINDS = ['slack', 'webhook', 'email', 'pagerduty', 'teams', 'log'] as const;
export type SinkKind = (typeof SINK_KINDS)[number];

export const isSinkKind = (s: string): s is SinkKind => (SINK_KINDS as readonly string[]).includes(s);

export const slackConfigSchema = z.object({
  /** Secret: the path is the credential. Only its host is ever logged. */
  webhookUrl: z.url({ protocol: /^https?$/ }),
  /** Digest: lines shown per severity before "and K more". */
  digestLinesPerSeverity: z.number().int().min(1).max(50).default(10),
  timeoutMs: z.number().int().min(100).default(10_000),
});
export type SlackConfig = z.infer<typeof slackConfigSchema>;

export const webhookConfigSchema = z.object({
  url: z.url({ protocol: /^https?$/ }),
  /** Secret: the HMAC key shared with the receiver. */
  secret: z.string().min(16, 'use at least 16 characters'),
  timeoutMs: z.number().int().min(100).default(10_000),
});
export type WebhookConfig = z.infer<typeof webhookConfigSchema>;

export const emailConfigSchema = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(587),
    /** TLS from the first byte (usually port 465). */
    secure: z.boolean().default(false),
    /** On a plain connection: require STARTTLS, use it when offered, or never use it. */
    starttls: z.enum(['required', 'opportunistic', 'disabled']).default('required'),
    /** Verify the server's certificate. */
    tlsRejectUnauthorized: z.boolean().default(true),
    user: z.string().min(1).optional(),
    /** Secret. */
    password: z.string().min(1).optional(),
    from: z.string().min(3),
    to: z.array(z.email()).min(1),
    subjectPrefix: z.string().default('[flarewatch]'),
    timeoutMs: z.number().int().min(100).default(30_000),
  })
  .refine((c) => (c.user === undefined) === (c.password === undefined), {
    message: 'set both user and password, or neither',
    path: ['password'],
  });
export type EmailConfig = z.infer<typeof emailConfigSchema>;

export const pagerdutyConfigSchema = z.object({
  /** Secret: the integration's routing key. */
  routingKey: z.string().min(1),
  baseUrl: z.url({ protocol: /^https?$/ }).default('https://events.pagerduty.com'),
  /** `payload.source`: where the problem is, as PagerDuty shows it. */
  source: z.string().min(1).default('flarewatch'),
  timeoutMs: z.number().int().min(100).default(10_000),
});
export type PagerDutyConfig = z.infer<typeof pagerdutyConfigSchema>;

export const teamsConfigSchema = z.object({
  /** Secret: the signature lives in the query string. Only its host is ever logged. */
  webhookUrl: z.url({ protocol: /^https?$/ }),
  digestLinesPerSeverity: z.number().int().min(1).max(50).default(10),
  timeoutMs: z.number().int().min(100).default(10_000),
});
export type TeamsConfig = z.infer<typeof teamsConfigSchema>;

export const logConfigSchema = z.object({
  level: z.enum(['fatal', 'error', 'warn', 'info', 'debug']).default('warn'),
  /** Digest: events listed in the line, the rest only counted. */
  digestMaxEvents: z.number().int().min(0).max(1000).default(100),
});
export type LogConfig = z.infer<typeof logConfigSchema>;

export interface SinkSettings<S extends z.ZodType> {
  /** Validates one sink's settings; secrets are required strings with no defaults. */
  schema: S;
  /** The secret values in parsed settings, for the logger's scrub list. */
  secrets: (config: z.output<S>) => string[];
}

const settings = <S extends z.ZodType>(s: SinkSettings<S>) => s;

export const SINK_SETTINGS = {
  slack: settings({ schema: slackConfigSchema, secrets: (c) => [c.webhookUrl, new URL(c.webhookUrl).pathname].filter((s) => s.length > 1) }),
  webhook: settings({ schema: webhookConfigSchema, secrets: (c) => [c.secret] }),
  email: settings({ schema: emailConfigSchema, secrets: (c) => (c.password ? [c.password] : []) }),
  pagerduty: settings({ schema: pagerdutyConfigSchema, secrets: (c) => [c.routingKey] }),
  teams: settings({
    schema: teamsConfigSchema,
    secrets: (c) => {
      const u = new URL(c.webhookUrl);
      return [c.webhookUrl, u.pathname, u.search].filter((s) => s.length > 1);
    },
  }),
  log: settings({ schema: logConfigSchema, secrets: () => [] }),
} satisfies Record<SinkKind, SinkSettings<z.ZodType>>;

export type SinkConfig<K extends SinkKind> = z.output<(typeof SINK_SETTINGS)[K]['schema']>;
