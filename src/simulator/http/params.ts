import { badParam } from './errors.js';

export type Query = Record<string, string | string[]>;

/** Repeated keys become arrays (qs `arrayFormat: 'repeat'`, which the SDK uses). */
export function parseQuery(search: URLSearchParams): Query {
  const out: Query = {};
  for (const [k, v] of search) {
    const cur = out[k];
    out[k] = cur === undefined ? v : Array.isArray(cur) ? [...cur, v] : [cur, v];
  }
  return out;
}

export const one = (q: Query, key: string): string | undefined => {
  const v = q[key];
  return Array.isArray(v) ? v[v.length - 1] : v;
};
export const many = (q: Query, key: string): string[] => {
  const v = q[key];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
};

export function intParam(q: Query, key: string, def: number, min: number, max: number): number {
  const raw = one(q, key);
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw badParam(`${key} must be an integer between ${min} and ${max}${max === Infinity ? '' : ''}`.replace(' and Infinity', ' or more'));
  }
  return n;
}

export function enumParam<T extends string>(q: Query, key: string, allowed: readonly T[]): T | undefined {
  const raw = one(q, key);
  if (raw === undefined || raw === '') return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw badParam(`${key} must be one of ${allowed.join(', ')}`);
  return raw as T;
}

export function boolParam(q: Query, key: string): boolean | undefined {
  const raw = one(q, key);
  if (raw === undefined || raw === '') return undefined;
  if (raw !== 'true' && raw !== 'false') throw badParam(`${key} must be true or false`);
  return raw === 'true';
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** RFC 3339 full-date (a whole UTC day, i.e. its midnight) or date-time. */
export function dateParam(q: Query, key: string): number | undefined {
  const raw = one(q, key);
  if (raw === undefined || raw === '') return undefined;
  if (!DATE_ONLY.test(raw) && !DATE_TIME.test(raw)) throw badParam(`${key} must be an RFC 3339 date or date-time`);
  const ms = Date.parse(DATE_ONLY.test(raw) ? `${raw}T00:00:00Z` : raw);
  if (Number.isNaN(ms)) throw badParam(`${key} is not a valid date`);
  return ms;
}

/** Standard page slicing with Cloudflare's result_info (plus total_pages, which the live API sends). */
export function pageOf<T>(items: T[], page: number, perPage: number) {
  const start = (page - 1) * perPage;
  const result = items.slice(start, start + perPage);
  return {
    result,
    result_info: { page, per_page: perPage, count: result.length, total_count: items.length, total_pages: Math.ceil(items.length / perPage) },
  };
}
