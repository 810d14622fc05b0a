const NEEDS_ESCAPE = /[\\\t\n\r]/;

/** One field in COPY's text format: NULL as \N, backslash, tab and line breaks escaped. */
export function copyField(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  const text = v instanceof Date ? v.toISOString() : typeof v === 'object' ? JSON.stringify(v) : String(v);
  // Most fields need no escaping: test once instead of scanning four times.
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
}
