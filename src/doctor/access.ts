import type { Config } from '../config.js';
import { connectDatabase } from '../db/client.js';
import { accessPictures, describePicture } from '../db/queries/access-picture.js';
import type { Check } from './credentials.js';

/**
 * Each account's access picture, from what the walks recorded (access_listings): a check that fails
 * while a listing it needs is forbidden, failed, partial or never read. Nothing to say before the
 * first walk of an access listing, nor without a reachable DATABASE_URL (the database check says why).
 */
export async function accessPictureChecks(config: Config): Promise<Check[]> {
  if (!config.database.url) return [];
  const database = connectDatabase(config.database.url, { max: 1, connectTimeoutMs: 5_000 });
  try {
    const walked = await database.pool.query<{ n: number }>(`select count(*)::int as n from access_listings`);
    if (!walked.rows[0]?.n) return [];
    return (await accessPictures(database.db)).map((p) => ({ ok: p.complete, what: 'access picture', detail: describePicture(p) }));
  } catch (err) {
    // Not migrated yet: no access picture to speak of (migrate creates the table).
    if ((err as { code?: string }).code === '42P01') return [];
    return [{ ok: false, what: 'access picture', detail: `could not read access_listings: ${(err as Error).message}` }];
  } finally {
    await database.close();
  }
}
