// Where a custom SQL rule runs: a connection of its own (closed after the rule, so nothing it
// takes, such as a session advisory lock, outlives it) that LOGS IN as the database's reader
// role, which can read flarewatch's tables and nothing else. Never SET ROLE: a session that
// switched roles can switch back from inside a query (set_config('role', 'none', true)), and
// functions such as query_to_xml then read as the owner. Never the owner's connection either:
// when the reader cannot log in, the rule fails.
//
// The reader's password: the one an administrator set and gave flarewatch
// (customSql.readerPassword), else one flarewatch sets just before logging in, valid for a
// minute (a superuser or a CREATEROLE owner may).
import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Db } from '../db/client.js';
import { ensureReaderAccess } from '../db/access.js';
import { adminStatement, quoteIdent, readerRoleName } from '../db/reader-role.js';
import { extended } from './rule-cursor.js';

const PASSWORD_LOCK_KEY = 0x666c7275;
const prepared = new WeakSet<pg.Pool>();

export interface RuleLogin {
  /** Statement timeout of the session (ms): the server enforces it on every statement. */
  timeoutMs: number;
  /** The reader role's password, when an administrator manages it (the owner may not set it). */
  readerPassword?: string | undefined;
}

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

/** Custom rules cannot run: the reader role is missing, or flarewatch cannot log in as it. */
export class RuleRoleMissingError extends Error {}

interface Owner { database: string; me: string; su: boolean }

async function ownerInfo(owner: pg.PoolClient): Promise<Owner> {
  const { rows } = await owner.query<{ db: string; me: string; su: boolean }>(
    'select current_database() as db, current_user as me, (select rolsuper from pg_roles where rolname = current_user) as su');
  return { database: rows[0]!.db, me: rows[0]!.me, su: rows[0]!.su };
}

/** Set a fresh one-minute password on the reader role; the caller holds the advisory lock. */
async function setTemporaryPassword(owner: pg.PoolClient, role: string, me: string): Promise<string> {
  const password = randomBytes(24).toString('base64url');
  const until = (await owner.query<{ t: string }>("select (now() + interval '1 minute')::text as t")).rows[0]!.t;
  try {
    await owner.query(`ALTER ROLE ${quoteIdent(role)} LOGIN PASSWORD '${scramVerifier(password)}' VALID UNTIL '${until}'`);
  } catch (err) {
    if ((err as { code?: string }).code !== '42501') throw err;
    throw new RuleRoleMissingError(
      `custom SQL rules log in as the role ${role}, and ${me} may not set its password (no CREATEROLE): an administrator runs once ` +
        `ALTER ROLE ${quoteIdent(role)} LOGIN PASSWORD '<password>'; and gives flarewatch that password in FLAREWATCH_READER_PASSWORD (customSql.readerPassword)`);
  }
  return password;
}

function sessionConfig(pool: pg.Pool, role: string, password: string, login: RuleLogin): pg.ClientConfig {
  const timeout = Math.max(1, Math.floor(login.timeoutMs));
  return {
    ...asUser(pool.options, role, password),
    application_name: 'flarewatch-rule',
    // Startup parameters: in force before the rule's first statement, whatever it sets later for itself.
    statement_timeout: timeout,
    options: `-c default_transaction_read_only=on -c idle_in_transaction_session_timeout=${timeout}`,
  };
}

async function connectAs(config: pg.ClientConfig, role: string): Promise<pg.Client> {
  const client = new pg.Client(config);
  client.on('error', () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new RuleRoleMissingError(`custom SQL rules log in as the role ${role}, which failed: ${(err as Error).message}`);
  }
  return client;
}

/** A connection logged in as the database's reader role; never the owner's. */
async function readerSession(db: Db, login: RuleLogin): Promise<pg.Client> {
  const pool = db.$client;
  const owner = await pool.connect();
  try {
    const { database, me, su } = await ownerInfo(owner);
    const role = readerRoleName(database);
    if (su && !prepared.has(pool)) {
      await ensureReaderAccess(owner);
      prepared.add(pool);
    }
    const exists = (await owner.query('select 1 from pg_roles where rolname = $1', [role])).rowCount === 1;
    if (!exists) {
      throw new RuleRoleMissingError(`custom SQL rules log in as the role ${role}, which is missing: an administrator runs once ${adminStatement(role, me)}`);
    }
    if (login.readerPassword) return await connectAs(sessionConfig(pool, role, login.readerPassword, login), role);
    // One process at a time sets the password and logs in with it.
    await owner.query('select pg_advisory_lock($1)', [PASSWORD_LOCK_KEY]);
    try {
      const password = await setTemporaryPassword(owner, role, me);
      return await connectAs(sessionConfig(pool, role, password, login), role);
    } finally {
      await owner.query('select pg_advisory_unlock($1)', [PASSWORD_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    owner.release();
  }
}

/** Runs `fn` on a fresh session logged in as the reader role, inside a READ ONLY transaction; the session is closed after. */
export async function withRuleConnection<T>(db: Db, login: RuleLogin, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await readerSession(db, login);
  try {
    const me = await client.query<{ su: boolean }>(extended('select rolsuper as su from pg_roles where rolname = current_user'));
    if (me.rows[0]?.su !== false) throw new RuleRoleMissingError('custom SQL rules refuse to run: the reader role is a superuser');
    await client.query(extended('BEGIN READ ONLY'));
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
