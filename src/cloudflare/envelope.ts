import { z } from 'zod';

// Cloudflare's v4 envelope. Loose on purpose: a field Cloudflare adds must not fail a sync,
// but a body that is not an envelope at all (HTML, truncated JSON) must.
export const apiMessageSchema = z.looseObject({ code: z.number().optional(), message: z.string().optional() });

export const resultInfoSchema = z.looseObject({
  page: z.coerce.number().optional(),
  per_page: z.coerce.number().optional(),
  count: z.coerce.number().optional(),
  total_count: z.coerce.number().optional(),
  total_pages: z.coerce.number().optional(),
  cursor: z.string().nullish(),
  cursors: z.looseObject({ after: z.string().nullish() }).nullish(),
});

export const envelopeSchema = z.looseObject({
  success: z.boolean(),
  errors: z.array(apiMessageSchema).default([]),
  messages: z.array(apiMessageSchema).nullish(),
  result: z.unknown(),
  result_info: resultInfoSchema.nullish(),
});

export type Envelope = z.infer<typeof envelopeSchema>;
export type ResultInfo = z.infer<typeof resultInfoSchema>;

/** An object with a string id: the least every listed item must be. */
export const itemSchema = z.looseObject({ id: z.string().min(1) });
export type ApiItem = z.infer<typeof itemSchema>;
