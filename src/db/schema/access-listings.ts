import { pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/** What the last walk of one access listing proved about it. */
export const LISTING_STATES = ['complete', 'forbidden', 'not_applicable', 'failed', 'partial'] as const;

/**
 * Whether each listing an access picture is built from could be read, per account (or per
 * credential for listings that are not an account's, such as /organizations: scope
 * `credential:<name>`). A listing that is not `complete` makes the account's picture incomplete;
 * it is never read as "nothing there". `view_of` says whose view a complete listing is when it
 * is not the whole account's (a token provisioner sees only the tokens it created).
 */
/** What a listing's state is, as the listing holds it now and each of its versions held it. */
export const listingStateColumns = {
  /** `account:<id>` or `credential:<name>`. */
  scope: text('scope').notNull(),
  accountId: text('account_id'),
  /** members, roles, user-groups, user-group-members, resource-groups, iam-permission-groups, zones, organizations, account-tokens, user-tokens */
  listing: text('listing').notNull(),
  state: text('state', { enum: LISTING_STATES }).notNull(),
  /** Why it is not complete: the HTTP status and Cloudflare's message, or why it does not apply. */
  reason: text('reason'),
  credential: text('credential'),
};

export const accessListings = pgTable(
  'access_listings',
  {
    ...listingStateColumns,
    /** Whose view the listing is: `account` (all of it) or e.g. `provisioner:<id>`. */
    viewOf: text('view_of').notNull().default('account'),
    checkedAt: ts('checked_at').notNull().defaultNow(),
    /** The last time this listing was walked complete. */
    completeAt: ts('complete_at'),
  },
  (t) => [primaryKey({ columns: [t.scope, t.listing] })],
);
