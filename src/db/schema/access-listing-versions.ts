import { sql } from 'drizzle-orm';
import { index, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { listingStateColumns } from './access-listings.js';
import { versionColumns } from './version-columns.js';

/**
 * Every state of every access listing (access_listings), over time: what `access … --at` and
 * effective_access_at(t) judge a past picture's completeness by (flarewatch_access_pictures(t),
 * migration 0031). Written by a trigger on access_listings, so no writer can skip it; a new version
 * only when state, reason, credential or view change, never for a walk that found the same.
 * Before a scope's first version nothing is known: a past answer there says so (incomplete).
 */
export const accessListingVersions = pgTable(
  'access_listing_versions',
  {
    ...versionColumns,
    // Tracked: a change to state, reason, credential or view is a new version.
    ...listingStateColumns,
    viewOf: text('view_of').notNull(),
  },
  (t) => [
    index('access_listing_versions_key_idx').on(t.scope, t.listing, t.validFrom),
    // One open version per listing: two writers of the same listing cannot both leave theirs open.
    uniqueIndex('access_listing_versions_open_idx').on(t.scope, t.listing).where(sql`valid_to is null`),
  ],
);
