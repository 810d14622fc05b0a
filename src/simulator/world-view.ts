// What the World's helpers (audit/streams.ts, iam/access-world.ts, iam/seed.ts) read of it.
// They take this, not the World class, so world.ts imports them and nothing imports world.ts
// back: the simulator's modules form no loop (test/unit/import-cycles.test.ts).
import type { Account, Member } from './inventory.js';
import type { AuditSettings } from './options.js';
import type { Token, Zone } from './tokens.js';
import type { SimUser } from './users.js';

export interface WorldSize {
  accounts: number; userTokens: number; accountTokensPerAccount: number; membersPerAccount: number;
  userInvites: number; organizations: number; billingHistory: number; ipAccessRules: number;
  userAuditEntries: number; accountAuditEntries: number; accountAuditV1Entries: number; auditDays: number;
  /** Users in the world; user 0 is the owner (member of every account), users 1.. are extra users. */
  users: number; extraUserTokens: number; extraUserAuditEntries: number;
}

export interface WorldView {
  readonly user: Record<string, unknown> & { id: string; email: string };
  readonly accounts: Account[];
  readonly zones: Map<string, Zone[]>;
  readonly users: SimUser[];
  readonly userTokens: Token[];
  readonly credentialTokenId: string;
  readonly audit: AuditSettings;
  allZones(): Zone[];
  account(id: string): Account | undefined;
  members(accountId: string): Member[];
  accountTokens(accountId: string): Token[];
  userById(id: string): SimUser | undefined;
}
