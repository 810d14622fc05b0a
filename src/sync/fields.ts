// Read typed columns out of untrusted API objects: a missing or odd field becomes null,
// never an exception (the full object is kept in `raw` anyway).

type Obj = Record<string, unknown>;

export const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
export const str = (v: unknown): string | null => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : null);
export const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
export const num = (v: unknown): string | null => (typeof v === 'number' && Number.isFinite(v) ? String(v) : typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)) ? v : null);
export const strings = (v: unknown): string[] | null => (Array.isArray(v) ? v.map((x) => str(typeof x === 'object' ? obj(x).name ?? obj(x).id : x)).filter((x): x is string => x !== null) : null);

export function date(v: unknown): Date | null {
  if (typeof v !== 'string' && typeof v !== 'number') return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/** The API object as stored: never with a token secret, whatever an endpoint might send. */
export function rawOf(item: Obj): Obj {
  if (!('value' in item)) return item;
  const { value: _secret, ...rest } = item;
  return rest;
}
