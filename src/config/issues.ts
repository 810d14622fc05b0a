// Turns zod's issues into plain words that name the setting: the env var when there is one and
// the config key, never the validator's own wording ("expected date, received Date").
import type { z } from 'zod';
import { didYouMean } from '../util/did-you-mean.js';
import { kindOf, redactUrlCredentials, stringsIn } from './secret-paths.js';

/** What the error map hands zod for an unknown key: the keys that object knows, read back by `describeIssue`. */
const KNOWN_PREFIX = 'known-keys:';

/**
 * A parse-level error map. For an unknown key it records the keys the strict object does know
 * (zod passes the object schema as `inst`), so every strict object in the schema gets a
 * "did you mean" with no list kept by hand.
 */
export const errorMap: z.core.$ZodErrorMap = (issue) => {
  if (issue.code !== 'unrecognized_keys') return undefined;
  const shape = (issue.inst as { _zod?: { def?: { shape?: Record<string, unknown> } } } | undefined)?._zod?.def?.shape;
  return `${KNOWN_PREFIX}${JSON.stringify(Object.keys(shape ?? {}))}`;
};

const article = (type: string) => {
  const words: Record<string, string> = { number: 'a number', string: 'text', boolean: 'true or false', array: 'a list', object: 'a section (key: value pairs)', date: 'a date' };
  return words[type] ?? type;
};

const shown = (value: unknown, secret: boolean) => {
  if (value === undefined) return '';
  if (secret) return `, got ${kindOf(value)}`;
  const text = typeof value === 'string' ? `"${value}"` : JSON.stringify(value);
  return text === undefined ? '' : `, got ${text.length > 60 ? `${text.slice(0, 57)}…` : text}`;
};

export interface Naming {
  /** `FLAREWATCH_AUDIT_LAG (audit.lag)`, or the bare key when no variable maps to it. */
  name(path: string): string;
  /** The raw value at a path, to show what was given (never for secrets). */
  valueAt(path: PropertyKey[]): unknown;
  isSecret(path: string): boolean;
}

/**
 * One line per problem; an unknown-keys issue gives one line per key. Where the value may hold a
 * secret, any of its text a message quotes is cut out (our own checks' messages included), and a
 * URL's user:password is masked in every line.
 */
export function describeIssue(issue: z.core.$ZodIssue, naming: Naming): string[] {
  const lines = describe(issue, naming);
  // Unknown keys are named, never their values: nothing to cut (and a section's values could match a key's name).
  const quoting = issue.code !== 'unrecognized_keys' && naming.isSecret(issue.path.map(String).join('.'));
  const secrets = quoting ? stringsIn(naming.valueAt(issue.path)).filter((v) => v.length >= 4) : [];
  return lines.map((line) => redactUrlCredentials(secrets.reduce((l, v) => l.split(v).join('[redacted]'), line)));
}

function describe(issue: z.core.$ZodIssue, naming: Naming): string[] {
  const path = issue.path.map(String).join('.');
  const secret = naming.isSecret(path);
  const value = naming.valueAt(issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known: string[] = issue.message.startsWith(KNOWN_PREFIX) ? JSON.parse(issue.message.slice(KNOWN_PREFIX.length)) : [];
      return issue.keys.map((key) => {
        const full = path ? `${path}.${key}` : key;
        return `${full}: unknown setting${didYouMean(key, known) || (known.length ? ` (known here: ${known.join(', ')})` : '')}`;
      });
    }
    case 'invalid_type': {
      const expected = issue.expected === 'number' && /int/.test(issue.message) ? 'a whole number' : article(issue.expected);
      return [`${naming.name(path)}: expected ${expected}${shown(value, secret)}`];
    }
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const what = issue.origin === 'string' ? 'characters' : issue.origin === 'array' ? 'items' : '';
      if (issue.origin === 'string' && issue.code === 'too_small' && Number(bound) <= 1) return [`${naming.name(path)}: must not be empty`];
      const word = issue.code === 'too_small' ? 'at least' : 'at most';
      return [`${naming.name(path)}: must be ${word} ${String(bound)}${what ? ` ${what}` : ''}${shown(value, secret)}`];
    }
    case 'invalid_value':
      return [`${naming.name(path)}: must be one of ${issue.values.map(String).join(', ')}${shown(value, secret)}`];
    case 'invalid_format': {
      const formats: Record<string, string> = { url: 'a URL (https://…)', email: 'an email address', regex: 'in the expected form' };
      return [`${naming.name(path)}: must be ${formats[issue.format] ?? issue.format}${shown(value, secret)}`];
    }
    case 'invalid_union':
      return [`${naming.name(path)}: not a valid value${shown(value, secret)}`];
    default:
      // Our own checks (durations, cron, URLs) already speak plainly.
      return [`${naming.name(path)}: ${issue.message}`];
  }
}
