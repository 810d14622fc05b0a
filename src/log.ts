import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import type { Terminal } from './util/terminal.js';

export type { Logger };

export interface LogOptions {
  level: string;
  format: 'auto' | 'json' | 'pretty';
  secrets: string[];
  destination?: pino.DestinationStream;
  /** On a TTY: where pretty lines go (a progress bar can take them over). */
  terminal?: Terminal;
  /** false: no colour in pretty lines (NO_COLOR). */
  color?: boolean;
}

// Header names and config keys that carry credentials, wherever they appear in a log object.
const REDACT_PATHS = [
  '*.apiToken', '*.apiKey', '*.password', '*.secret', '*.authorization', '*.Authorization',
  '*.headers.authorization', '*.headers["x-auth-key"]', 'apiToken', 'apiKey', 'password',
  'config.cloudflare.apiToken', 'config.cloudflare.apiKey', 'config.database.url',
];

/** Replace every occurrence of a known secret value, so a token echoed in an error message never leaks. */
export function scrub<T>(value: T, secrets: readonly string[], depth = 0): T {
  if (secrets.length === 0 || depth > 8) return value;
  if (typeof value === 'string') {
    let out: string = value;
    // An empty value would match everywhere: never a secret worth replacing.
    for (const s of secrets) if (s && out.includes(s)) out = out.split(s).join('[REDACTED]');
    return out as T;
  }
  if (value instanceof Error) {
    const copy = { type: value.name, message: scrub(value.message, secrets), stack: scrub(value.stack, secrets) };
    return { ...copy, ...scrub({ ...value }, secrets, depth + 1) } as T;
  }
  if (Array.isArray(value)) return value.map((v) => scrub(v, secrets, depth + 1)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(v, secrets, depth + 1)])) as T;
  }
  return value;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Error);

const same = (a: unknown, b: unknown) => a === b || JSON.stringify(a) === JSON.stringify(b);

/**
 * pino writes a key once per scope that sets it, so a job's `stream` binding and a walk's own
 * `stream` would come out twice in one line. A key already bound is written once: a repeat with
 * the same value is dropped, a different value is kept as `inner_<key>`.
 */
export function withoutBound(fields: Record<string, unknown>, bound: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(fields)) {
    if (!(k in bound)) continue;
    out ??= { ...fields };
    delete out[k];
    if (!same(v, bound[k])) out[`inner_${k}`] = v;
  }
  return out ?? fields;
}

// A logger's bindings never change after its creation here (setBindings is not used): parse them once.
const boundCache = new WeakMap<object, Record<string, unknown>>();
function boundOf(log: Logger): Record<string, unknown> {
  let bound = boundCache.get(log);
  if (!bound) boundCache.set(log, (bound = log.bindings()));
  return bound;
}

/** Children inherit this `child`: their bindings skip what an outer scope already bound. */
function dedupeChildren(root: Logger): Logger {
  const child = Object.getPrototypeOf(root).child as Logger['child'];
  root.child = function (this: Logger, bindings, options) {
    return child.call(this, withoutBound(bindings, boundOf(this)), options);
  } as Logger['child'];
  return root;
}

export function createLogger(opts: LogOptions): Logger {
  // Logs go to stderr so that command output on stdout (tables, --json) stays clean.
  const isPretty = opts.format === 'pretty' || (opts.format === 'auto' && process.stderr.isTTY && !opts.destination);
  const secrets = opts.secrets;
  const options: pino.LoggerOptions = {
    level: opts.level,
    base: { app: 'flarewatch' },
    redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
    serializers: { err: (err: unknown) => scrub(pino.stdSerializers.err(err as Error), secrets) },
    formatters: { log: (obj) => scrub(obj, secrets), bindings: (b) => scrub(b, secrets) },
    hooks: {
      logMethod(args, method) {
        const [first, ...rest] = args.map((a) => scrub(a, secrets));
        const fields = isPlainObject(first) ? withoutBound(first, boundOf(this)) : first;
        method.apply(this, [fields, ...rest] as Parameters<typeof method>);
      },
    },
  };
  if (isPretty) {
    // One line per entry on a terminal. An alert's full object stays in JSON output; here its
    // message says it all (the log sink would otherwise print some 25 lines per alert).
    const out = pretty({ colorize: opts.color !== false, singleLine: true, ignore: 'app,pid,hostname,alert,digest', destination: opts.terminal?.stream ?? 2, sync: true });
    return dedupeChildren(pino(options, out));
  }
  return dedupeChildren(pino(options, opts.destination ?? pino.destination({ fd: 2, sync: false })));
}
