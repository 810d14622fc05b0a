// Apart from the table (no drizzle import), so `fix plan --help` lists the actions without loading the schema.
export const REMEDIATION_KINDS = ['token-disable', 'token-set-expiry', 'token-delete', 'token-narrow', 'token-roll',
  'member-remove', 'invitation-remove', 'group-member-remove', 'user-invite-reject'] as const;
export type RemediationKind = (typeof REMEDIATION_KINDS)[number];
