import type { Context } from '../context.js';
import type { CredentialAccess } from '../credentials/types.js';
import { readObject, writeCredentialOf } from '../remediation/write-client.js';
import type { Check } from './credentials.js';

/** Permission groups that let remediation change something, and what. */
const CHANGES: Record<string, string> = {
  'API Tokens Write': "user tokens (disable, expiry, narrow, delete, roll)",
  'Account API Tokens Write': 'account tokens (disable, expiry, narrow, delete, roll)',
  'Account Settings Write': 'account members and pending invitations, user groups (remove)',
  'Memberships Write': 'user invitations (reject)',
};

async function grantsOf(c: CredentialAccess): Promise<string[] | string> {
  const id = c.identity;
  if (!id) return 'not verified (see the credential check above)';
  if (id.kind === 'global-key') return 'a global API key: everything its user may change (prefer a scoped token marked write: true)';
  if (!id.tokenId) return 'its token id is unknown';
  const path = id.kind === 'account-token' ? `/accounts/${id.accountId}/tokens/${id.tokenId}` : `/user/tokens/${id.tokenId}`;
  try {
    const t = (await readObject(c, path)).result;
    const names = ((t?.policies ?? []) as Array<{ effect?: string; permission_groups?: Array<{ name?: string }> }>)
      .filter((p) => p.effect === 'allow').flatMap((p) => (p.permission_groups ?? []).map((g) => g.name ?? ''));
    return [...new Set(names.filter((n) => n in CHANGES).map((n) => `${CHANGES[n]} [${n}]`))];
  } catch (err) {
    return `its own grants cannot be read (${(err as Error).message.slice(0, 120)}): needs API Tokens Read / Account API Tokens Read`;
  }
}

/** `doctor`: whether writes are on, which credential sends them, and what it may change. */
export async function remediationChecks(ctx: Pick<Context, 'config' | 'credentials'>): Promise<Check[]> {
  const r = ctx.config.remediation;
  const c = writeCredentialOf(ctx.config, ctx.credentials);
  if (!r.enabled) {
    const marked = typeof c === 'string' ? 'no write credential' : `write credential "${c.name}"`;
    return [{ ok: true, what: 'remediation', detail: `off (remediation.enabled: false): flarewatch sends no write; ${marked}` }];
  }
  if (typeof c === 'string') return [{ ok: false, what: 'remediation', detail: `enabled, but ${c}` }];
  const grants = await grantsOf(c);
  const detail = typeof grants === 'string' ? grants : grants.length ? `may change: ${grants.join('; ')}` : 'its grants include no permission remediation uses (it can change nothing)';
  return [{ ok: typeof grants === 'string' ? c.identity?.kind === 'global-key' : grants.length > 0, what: `remediation: writes through "${c.name}"`, detail: `${detail}; ${r.policies.length} hygiene polic${r.policies.length === 1 ? 'y' : 'ies'}, ${r.approvals} approver(s) for destructive plans` }];
}
