// Least privilege, run after the migrations (roles and database privileges are per database
// name, which a migration cloned from a template cannot know): one reader role per database,
// CONNECT only for those who should have it. Every step is best effort with a warning, so
// flarewatch runs as a plain database owner without CREATEROLE.
import type pg from 'pg';
import { adminStatement, quoteIdent, readerRoleName } from './reader-role.js';

export interface AccessReport {
  role: string;
  roleExists: boolean;
  warnings: string[];
}

type Q = Pick<pg.ClientBase, 'query'>;

async function attempt(client: Q, statement: string, warnings: string[], why: string): Promise<boolean> {
  try {
    await client.query(statement);
    return true;
  } catch (err) {
    warnings.push(`${why}: ${(err as Error).message}`);
    return false;
  }
}

/** Create (if allowed) and grant the database's reader role; revoke CONNECT from PUBLIC where flarewatch owns the database. */
export async function ensureReaderAccess(client: Q): Promise<AccessReport> {
  const warnings: string[] = [];
  const { rows } = await client.query<{ db: string; me: string; su: boolean; owns: boolean }>(`
    select current_database() as db, current_user as me,
           (select rolsuper from pg_roles where rolname = current_user) as su,
           (select d.datdba = (select oid from pg_roles where rolname = current_user) from pg_database d where d.datname = current_database()) as owns`);
  const { db, me, su, owns } = rows[0]!;
  const role = readerRoleName(db);
  const r = quoteIdent(role);
  let exists = (await client.query('select 1 from pg_roles where rolname = $1', [role])).rowCount === 1;
  if (!exists) {
    try {
      await client.query(`CREATE ROLE ${r} NOLOGIN`);
      exists = true;
      // PostgreSQL 16+ gives a non-superuser creator ADMIN only (enough to set the password custom rules log in
      // with); membership also lets the owner see and cancel the reader's sessions.
      if (!su) await attempt(client, `GRANT ${r} TO ${quoteIdent(me)}`, warnings, `cannot join ${role}`);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === '42710') exists = true; // another process created it at the same moment
      else {
        warnings.push(
          `role ${role} is missing and ${me} may not create roles (no CREATEROLE): reviewers and custom SQL rules need it. ` +
            `An administrator runs once: ${adminStatement(role, me)} (the next start grants it access)`,
        );
        return { role, roleExists: false, warnings };
      }
    }
  }
  if (owns || su) await attempt(client, `GRANT CONNECT ON DATABASE ${quoteIdent(db)} TO ${r}`, warnings, `cannot grant CONNECT to ${role}`);
  await attempt(client, `GRANT USAGE ON SCHEMA public TO ${r}`, warnings, `cannot grant USAGE on schema public to ${role}`);
  await attempt(client, `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${r}`, warnings, `cannot grant SELECT to ${role}`);
  // The point-in-time functions (token_grants_at, member_access_at): PUBLIC may execute functions by
  // default, but a hardened server revokes that, and reviewers need them.
  await attempt(client, `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO ${r}`, warnings, `cannot grant EXECUTE to ${role}`);
  // New tables and monthly audit partitions, created later by this role, are readable too.
  await attempt(client, `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO ${r}`, warnings, `cannot set default privileges for ${role}`);
  await attempt(client, `ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT EXECUTE ON FUNCTIONS TO ${r}`, warnings, `cannot set default privileges for ${role}`);
  // Safe only on flarewatch's own database: others connect through the reader role (or a grant).
  if (owns) await attempt(client, `REVOKE CONNECT ON DATABASE ${quoteIdent(db)} FROM PUBLIC`, warnings, 'cannot revoke CONNECT from PUBLIC');
  const legacy = await client.query<{ member: string }>(`
    select m.rolname as member from pg_auth_members a join pg_roles g on g.oid = a.roleid join pg_roles m on m.oid = a.member
     where g.rolname = 'flarewatch_reader' order by 1`);
  if (legacy.rows.length) {
    warnings.push(
      `flarewatch_reader no longer reads this database (it reached every flarewatch database on the server); ` +
        `grant ${role} instead: ${legacy.rows.map((m) => `GRANT ${r} TO ${quoteIdent(m.member)};`).join(' ')}`,
    );
  }
  return { role, roleExists: true, warnings };
}
