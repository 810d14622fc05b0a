import { FatalError } from '../util/fatal-error.js';

const REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused (is PostgreSQL running there?)',
  ENOTFOUND: 'no such host',
  EAI_AGAIN: 'the host name could not be resolved',
  ETIMEDOUT: 'no answer (timed out)',
  EHOSTUNREACH: 'host unreachable',
  ECONNRESET: 'the connection was reset',
  '28P01': 'password authentication failed',
  '28000': 'the server refused this user (pg_hba.conf or role)',
  '3D000': 'the database does not exist',
  '57P03': 'the server is starting up or shutting down',
  '53300': 'too many connections',
};

/** `host:port/database` of a connection URL, without user or password. */
export function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'the configured server';
  }
}

/** A connection failure as one line naming DATABASE_URL and the host; anything else is returned as it was. */
export function databaseConnectError(err: unknown, url: string, setting = 'DATABASE_URL'): unknown {
  const e = err as { code?: string; message?: string; errors?: Array<{ code?: string }> };
  const code = e.code ?? e.errors?.[0]?.code;
  const reason = (code && REASONS[code]) ?? (/timeout/i.test(e.message ?? '') ? 'no answer (timed out)' : undefined);
  if (!reason) return err;
  return new FatalError(`${setting}: cannot connect to PostgreSQL at ${describeTarget(url)}: ${reason}`);
}
