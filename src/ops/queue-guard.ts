// Who may use the queue UI. Arriving on loopback proves nothing about who sent a request: a web
// page in the operator's browser reaches loopback by DNS rebinding (its own name, our address) or
// through a port-forward. So /queues answers only to the host names it is known by, takes state
// changes only from its own pages (Origin / Sec-Fetch-Site), and takes them only with the token;
// without a token it is read-only.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const TOKEN_COOKIE = 'flarewatch_queue_ui';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
const ANY_ADDRESS = new Set(['0.0.0.0', '::', '']);

export interface GuardSettings {
  /** Unset: read-only. */
  token?: string;
  /** Empty: the defaults below. */
  allowedHosts: string[];
  publicName?: string;
  /** The address the ops server is bound to. */
  boundHost: string;
}

export interface Refusal {
  status: number;
  message: string;
  headers?: Record<string, string>;
}

/** The host names /queues answers to: the configured list, else loopback names, the bound address and the public name. */
export function allowedHosts(s: GuardSettings): Set<string> {
  const given = s.allowedHosts.length ? s.allowedHosts : [...LOOPBACK_NAMES, ...(ANY_ADDRESS.has(s.boundHost) ? [] : [s.boundHost]), ...(s.publicName ? [s.publicName] : [])];
  return new Set(given.map(normaliseHost));
}

const normaliseHost = (h: string) => h.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');

/** The host name of a Host header or an origin's authority, without the port (`[::1]:9464` → `::1`). */
export function hostName(authority: string | undefined): string | undefined {
  if (!authority) return undefined;
  try {
    return normaliseHost(new URL(`http://${authority}`).hostname);
  } catch {
    return undefined;
  }
}

const same = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

/** The token a request carries: `Authorization: Bearer …` or the cookie `/queues/login` sets. */
export function presentedToken(req: IncomingMessage): string | undefined {
  const bearer = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
  return bearer?.[1] ?? cookieValue(req, TOKEN_COOKIE);
}

export const tokenMatches = (token: string | undefined, expected: string) => token !== undefined && same(token, expected);

/** A state change must come from a page of this same origin: its Origin names our Host, or the browser says same-origin. */
function sameOrigin(req: IncomingMessage): boolean {
  if (req.headers['sec-fetch-site'] === 'same-origin') return true;
  const origin = req.headers.origin;
  if (!origin || origin === 'null') return false;
  try {
    return new URL(origin).host.toLowerCase() === (req.headers.host ?? '').toLowerCase();
  } catch {
    return false;
  }
}

/** Why this request may not reach the queue UI, or undefined when it may. */
export function refusal(req: IncomingMessage, s: GuardSettings, hosts = allowedHosts(s)): Refusal | undefined {
  const host = hostName(req.headers.host);
  if (!host || !hosts.has(host)) {
    return { status: 421, message: 'this host name is not one the queue UI answers to (daemon.queueUi.allowedHosts)' };
  }
  const changes = !SAFE_METHODS.has((req.method ?? 'GET').toUpperCase());
  if (changes && !sameOrigin(req)) return { status: 403, message: 'a change to the queues must come from the queue UI\'s own page (Origin)' };
  if (s.token === undefined) {
    return changes ? { status: 403, message: 'the queue UI is read-only: set FLAREWATCH_QUEUE_UI_TOKEN to pause, retry or remove jobs' } : undefined;
  }
  if (!tokenMatches(presentedToken(req), s.token)) {
    return { status: 401, message: 'the queue UI needs its token: open /queues/login?token=<FLAREWATCH_QUEUE_UI_TOKEN>, or send Authorization: Bearer <token>' };
  }
  return undefined;
}
