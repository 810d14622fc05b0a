import { jsonb, pgTable, text } from 'drizzle-orm/pg-core';
import { ts } from './columns.js';

/** Every configured credential as last verified: what it is and whose it is. Never its secret. */
export const credentials = pgTable('credentials', {
  name: text('name').primaryKey(),
  kind: text('kind', { enum: ['user-token', 'account-token', 'global-key'] }),
  /**
   * A one-way fingerprint of the secret (truncated SHA-256, as the rate limiter's key): a stored
   * identity counts only for the secret it was verified with, so a rotated token is verified again.
   */
  fingerprint: text('fingerprint'),
  /** active, disabled, expired (Cloudflare's token status), invalid (refused) or unreachable. */
  status: text('status').notNull(),
  userId: text('user_id'),
  userEmail: text('user_email'),
  /** The account an account-owned token belongs to. */
  accountId: text('account_id'),
  /** The credential's own token (null for a global key). */
  tokenId: text('token_id'),
  expiresOn: ts('expires_on'),
  notBefore: ts('not_before'),
  lastVerifiedAt: ts('last_verified_at'),
  lastError: text('last_error'),
  /** The verify endpoint's answer (id, status, dates), for the record. */
  verify: jsonb('verify'),
  firstSeenAt: ts('first_seen_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});
