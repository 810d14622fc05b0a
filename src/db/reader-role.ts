import { createHash } from 'node:crypto';

/** Role names are at most 63 bytes; a longer database name keeps a readable prefix and a hash. */
export function readerRoleName(database: string): string {
  const name = `flarewatch_reader_${database}`;
  if (Buffer.byteLength(name) <= 63) return name;
  const hash = createHash('sha256').update(database).digest('hex').slice(0, 10);
  return `flarewatch_reader_${Buffer.from(database).subarray(0, 30).toString('utf8').replace(/\uFFFD/g, '')}_${hash}`;
}

export const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** The one statement an administrator runs when flarewatch's role may not create roles (no CREATEROLE). */
export const adminStatement = (role: string, owner: string) => `CREATE ROLE ${quoteIdent(role)} NOLOGIN ROLE ${quoteIdent(owner)};`;
