import { z } from 'zod';

// Cloudflare's v4 envelope. Loose on purpose: a field Cloudflare adds must not fail a sync,
// but a body that is not an envelope at all (HTML, truncated JSON) must.
export const apiMessageSchema = z.looseObject({ code: z.number().optional(), message: z.string().optional() });

export const envelopeSchema = z.looseObject({
  success: z.boolean(),
  errors: z.array(apiMessageSchema).default([]),
  messages: z.array(apiMessageSchema).nullish(),
  result: z.unknown().optional(),
  // Read field by field (readResultInfo): one odd field must not reject a page that does not need it.
  result_info: z.unknown().optional(),
});

/** Paging fields of result_info that were present and understood; the others are in `invalid`. */
export interface ResultInfo {
  page?: number | undefined;
  per_page?: number | undefined;
  count?: number | undefined;
  total_count?: number | undefined;
  total_pages?: number | undefined;
  cursor?: string | undefined;
  cursors?: { after?: string | undefined } | undefined;
  /** Token paging (organizations): the next page's token, absent on the last page; the listing's size. */
  next_page_token?: string | undefined;
  total_size?: number | undefined;
  /** Fields present with a type that cannot be used, as `name: "value"` (the v2 spec types `count` as a string). */
  invalid?: string[];
}

export type ApiMessage = z.infer<typeof apiMessageSchema>;

export interface Envelope {
  success: boolean;
  errors: ApiMessage[];
  messages?: ApiMessage[] | null | undefined;
  result: unknown;
  result_info: ResultInfo | undefined;
}

const NUMBERS = ['page', 'per_page', 'count', 'total_count', 'total_pages', 'total_size'] as const;

const shown = (v: unknown) => JSON.stringify(v)?.slice(0, 40) ?? String(v);

/** Numbers may arrive as numeric strings ("1"); anything else is recorded as invalid, not thrown. */
export function readResultInfo(raw: unknown): ResultInfo | undefined {
  if (raw === undefined || raw === null) return undefined;
  const invalid: string[] = [];
  if (typeof raw !== 'object' || Array.isArray(raw)) return { invalid: [`result_info: ${shown(raw)}`] };
  const r = raw as Record<string, unknown>;
  const info: ResultInfo = { invalid };
  for (const key of NUMBERS) {
    const v = r[key];
    if (v === undefined || v === null) continue;
    const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : Number.NaN;
    if (Number.isFinite(n)) info[key] = n;
    else invalid.push(`${key}: ${shown(v)}`);
  }
  const text = (name: string, v: unknown): string | undefined => {
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v === 'string') return v;
    invalid.push(`${name}: ${shown(v)}`);
    return undefined;
  };
  info.cursor = text('cursor', r.cursor);
  info.next_page_token = text('next_page_token', r.next_page_token);
  const cursors = r.cursors;
  if (cursors && typeof cursors === 'object') info.cursors = { after: text('cursors.after', (cursors as Record<string, unknown>).after) };
  return info;
}

/** An object with a string id: the least every listed item must be. */
export const itemSchema = z.looseObject({ id: z.string().min(1) });
export type ApiItem = z.infer<typeof itemSchema>;
