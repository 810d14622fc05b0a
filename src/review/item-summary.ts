import { memberGrants } from '../history/describe.js';
import type { EvidenceItem } from './evidence.js';

// Pure: the columns a reviewer reads for one item, as plain text, the same in CSV, Markdown and HTML.

type Obj = Record<string, unknown>;
const list = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);
const str = (v: unknown) => (v === null || v === undefined ? '' : String(v));

export interface ItemSummary {
  status: string;
  /** Roles and policies (members), grants (tokens), one per line. */
  access: string[];
  /** 2FA (members), allowed IPs (tokens). */
  protection: string;
  /** Members: last activity in the audit log; tokens: last use. */
  lastActive: string;
  /** Members: invitation; tokens: owner, expiry, creator. */
  context: string[];
}

/** Effective access per path (reviews frozen since the access model), with what was removed and an incomplete picture named. */
function effective(s: Obj): string[] | null {
  if (!('access' in s)) return null;
  const holds = list(s.access);
  return [
    ...(holds.length ? holds : ['no effective access']),
    ...list(s.access_removed).map((r) => `not effective: ${r}`),
    ...(s.access_picture_complete === false ? [`access picture incomplete: ${list(s.access_picture_missing).join('; ')}`] : []),
  ];
}

/** Where an invitation's date comes from, in words (the pack keeps the source's internal name). */
function invited(s: Obj): string {
  const at = str(s.invited_at);
  const by = s.invited_by ? ` by ${str(s.invited_by)}` : '';
  if (s.invited_at_source === 'first_seen_at') return `invited on or before ${at}${by} (first seen then; Cloudflare gives no date)`;
  if (s.invited_at_source === 'audit_log') return `invited ${at}${by} (from the audit log)`;
  return `invited ${at}${by}`;
}

/** Who created a token, and how that is known. */
function creator(s: Obj): string {
  const on = s.issued_on ? ` on ${str(s.issued_on)}` : '';
  if (!s.creator) return `created by unknown${on}`;
  const source = s.creator_source === 'audit_log' ? ' (from the audit log)' : s.creator_source === 'api' ? ' (as Cloudflare reports)' : '';
  return `created by ${str(s.creator)}${on}${source}`;
}

function member(s: Obj): ItemSummary {
  const act = (s.last_activity ?? null) as Obj | null;
  const roles = list(s.roles);
  return {
    status: str(s.status),
    access: effective(s) ?? [...(roles.length ? roles.map((r) => `role ${r}`) : ['no roles']), ...memberGrants(s.policies)],
    protection: s.two_factor_enabled === true ? '2FA on' : s.two_factor_enabled === false ? '2FA off' : '2FA unknown',
    lastActive: act ? `${str(act.at)} (${str(act.action)}${act.ip ? ` from ${str(act.ip)}` : ''})` : 'none in the audit log',
    context: s.status === 'pending' ? [invited(s)] : [],
  };
}

function token(s: Obj): ItemSummary {
  const allow = list(s.ip_allow);
  const deny = list(s.ip_deny);
  const ip = allow.length ? `from ${allow.join(', ')}` : 'from any IP';
  return {
    status: str(s.status),
    access: s.grants_known === false ? ['grants unknown (known from its verify answer only)']
      : effective(s) ?? (list(s.grants).length ? list(s.grants) : ['no grants']),
    protection: ip + (deny.length ? `, not from ${deny.join(', ')}` : ''),
    lastActive: s.last_used_on ? str(s.last_used_on) : 'never used',
    context: [
      `owner ${str(s.owner)}`,
      `expires ${s.expires_on ? str(s.expires_on) : 'never'}`,
      ...(s.not_before ? [`not before ${str(s.not_before)}`] : []),
      creator(s),
    ],
  };
}

export const summarise = (i: EvidenceItem): ItemSummary => (i.kind === 'member' ? member(i.snapshot) : token(i.snapshot));
