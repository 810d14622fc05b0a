// Where a custom SQL rule runs: a connection of its own (closed after the rule, so nothing it
// takes, such as a session advisory lock, outlives it) acting as the database's reader role,
// which can read flarewatch's tables and nothing else.
//
// A superuser session could switch back to itself from inside a query (set_config('role', …)),
// so as a superuser (the embedded server) the rule logs in *as* the reader role, with a
// password set just before and valid for a minute. A non-superuser owner can only switch to
// roles it belongs to, so there SET LOCAL ROLE is enough.
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Db } from '../db/client.js';
import { ensureReaderAccess } from '../db/access.js';
import { adminStatement, quoteIdent, readerRoleName } from '../db/reader-role.js';

const PASSWORD_LOCK_KEY = 0x666c7275;
const prepared = new WeakSet<pg.Pool>();

/** A SCRAM-SHA-256 verifier, so the password itself never reaches the server's statement log. */
function scramVerifier(password: string): string {
  const salt = randomBytes(16);
  const salted = pbkdf2Sync(password, salt, 4096, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$4096:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** The pool's connection settings with another user (a URL's own user would win over a separate `user`). */
function asUser(options: pg.PoolConfig, user: string, password: string): pg.ClientConfig {
  const { connectionString, ...rest } = options;
  if (!connectionString) return { ...rest, user, password };
  const url = new URL(connectionString);
  url.username = encodeURIComponent(user);
  url.password = encodeURIComponent(password);
  return { ...rest, connectionString: url.toString() };
}

export class RuleRoleMissingError extends Error {}

/** Run `fn` on a fresh connection acting as the reader role, inside a READ ONLY transaction; the connection is closed after. */
export async function withRuleConnection<T>(db: Db, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const pool = db.$client;
  const owner = await pool.connect();
  let client: pg.Client;
  let setRole: string | undefined;
  try {
    const { rows } = await owner.query<{ db: string; me: string; su: boolean }>(
      'select current_database() as db, current_user as me, (select rolsuper from pg_roles where rolname = current_user) as su');
    const { db: database, me, su } = rows[0]!;
    const role = readerRoleName(database);
    if (su) {
      if (!prepared.has(pool)) {
        await ensureReaderAccess(owner);
        prepared.add(pool);
      }
      const password = randomBytes(24).toString('base64url');
      // One process at a time sets the password and logs in with it.
      await owner.query('select pg_advisory_lock($1)', [PASSWORD_LOCK_KEY]);
      try {
        const until = (await owner.query<{ t: string }>("select (now() + interval '1 minute')::text as t")).rows[0]!.t;
        await owner.query(`ALTER ROLE ${quoteIdent(role)} LOGIN PASSWORD '${scramVerifier(password)}' VALID UNTIL '${until}'`);
        client = new pg.Client({ ...asUser(pool.options, role, password), application_name: 'flarewatch-rule' });
        await client.connect();
      } finally {
        await owner.query('select pg_advisory_unlock($1)', [PASSWORD_LOCK_KEY]).catch(() => undefined);
      }
    } else {
      const member = await owner.query<{ ok: boolean }>(
        "select exists (select 1 from pg_roles where rolname = $1) and pg_has_role(current_user, (select oid from pg_roles where rolname = $1), 'MEMBER') as ok",
        [role]);
      if (!member.rows[0]?.ok) {
        throw new RuleRoleMissingError(
          `custom SQL rules run as the role ${role}, which is missing or not granted to ${me}: an administrator runs once ${adminStatement(role, me)}`);
      }
      setRole = role;
      client = new pg.Client({ ...pool.options, application_name: 'flarewatch-rule' });
      await client.connect();
    }
  } finally {
    owner.release();
  }
  client.on('error', () => undefined);
  try {
    await client.query('BEGIN READ ONLY');
    if (setRole) await client.query(`SET LOCAL ROLE ${quoteIdent(setRole)}`);
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } finally {
    await client.end().catch(() => undefined);
  }
}
