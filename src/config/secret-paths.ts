// Which settings may hold a secret, as sections: a value at, inside or above one of these paths
// is never printed in a configuration error (only the kind of value it is), whatever shape it had.
// A list of names that end in "token" or "password" would miss a token given where a section was
// expected (cloudflare.credentials.0: "cfut_…") or a whole section given as one string.

export const SECRET_SECTIONS = [
  'cloudflare.apiToken', 'cloudflare.apiKey', 'cloudflare.credentials',
  'database', 'redis', 'alerts.sinks', 'daemon.queueUi.password', 'customSql.readerPassword',
] as const;

/** True when `path` (dotted) is a secret section, inside one, or above one (its value contains one). */
export function mayHoldSecret(path: string): boolean {
  if (path === '') return true;
  return SECRET_SECTIONS.some((s) => path === s || path.startsWith(`${s}.`) || s.startsWith(`${path}.`));
}

/** The kind of a value, said instead of the value. */
export function kindOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a section';
  if (typeof value === 'string') return 'text';
  return typeof value === 'number' ? 'a number' : typeof value === 'boolean' ? 'true or false' : typeof value;
}

/** Every string inside a value (at any depth), for removing from a message that might quote one. */
export function stringsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) stringsIn(v, out);
  return out;
}

/**
 * `scheme://user:s3cret@host` → `scheme://user:***@host`, wherever a URL appears in a message
 * (the literal placeholder of our own examples, `user:password@`, is left as it reads).
 */
export const redactUrlCredentials = (text: string) =>
  text.replace(/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@"]*):(?!password@)[^\s@/"]*@/gi, '$1:***@');
