import { PERMISSION_GROUPS, ROLES, roleByName, SCOPE_ACCOUNT, type Role } from './catalog.js';
import { DAY_MS, hex, hexId, int, isoSec, pick, type Rng } from './prng.js';
import type { Zone } from './tokens.js';

/** Generators for the non-token IAM objects; each returns the API shape verbatim. */

export interface Account {
  id: string; name: string; type: 'standard' | 'enterprise'; created_on: string;
  settings: { enforce_twofactor: boolean; abuse_contact_email?: string };
  /** Set when an organization owns the account. */
  managed_by?: { parent_org_id: string; parent_org_name: string };
}
export interface Member {
  id: string; email: string; status: 'accepted' | 'pending';
  user: { id: string; email: string; first_name: string | null; last_name: string | null; two_factor_authentication_enabled: boolean };
  roles: Role[];
  policies: Array<Record<string, unknown>>;
}

const ACCOUNT_NAMES = ['Acme Corp', 'Acme Staging', 'Example Labs', 'Globex Retail', 'Initech Security', 'Umbrella Media'];
const FIRST = ['Alice', 'Bob', 'Carol', 'Dave', 'Erin', 'Frank', 'Grace', 'Heidi', 'Ivan', 'Judy', 'Mallory', 'Niaj', 'Olivia', 'Peggy', 'Rupert', 'Sybil', 'Trent', 'Victor', 'Walter'];
const LAST = ['Nguyen', 'Smith', 'Garcia', 'Müller', 'Kowalski', 'Okafor', 'Tanaka', 'Rossi', 'Dubois', 'Larsen', "O'Brien"];
const DOMAINS = ['example.com', 'example.net', 'example.org', 'acme.test', 'globex.test', 'initech.test'];

export function makeAccount(rng: Rng, index: number, now: number): Account {
  const name = ACCOUNT_NAMES[index % ACCOUNT_NAMES.length]! + (index >= ACCOUNT_NAMES.length ? ` ${index}` : '');
  return {
    id: hexId(rng), name, type: index === 0 ? 'enterprise' : 'standard',
    created_on: isoSec(now - int(rng, 400, 2500) * DAY_MS),
    settings: { enforce_twofactor: index % 2 === 0, abuse_contact_email: `abuse@${DOMAINS[index % DOMAINS.length]}` },
  };
}

export function makeZones(rng: Rng, index: number): Zone[] {
  const count = 3;
  return Array.from({ length: count }, (_, z) => ({ id: hexId(rng), name: z === 0 ? DOMAINS[index % DOMAINS.length]! : `${['shop', 'api', 'blog'][z - 1]}-${index}.${DOMAINS[(index + z) % DOMAINS.length]}` }));
}

export function person(rng: Rng, domain: string) {
  const first = pick(rng, FIRST), last = pick(rng, LAST);
  return { first, last, email: `${first.toLowerCase()}.${last.toLowerCase().replace(/[^a-z]/g, '')}${int(rng, 1, 99)}@${domain}` };
}

const MEMBER_ROLES: string[][] = [
  ['Super Administrator - All Privileges'], ['Administrator'], ['Administrator Read Only'], ['Billing'],
  ['DNS', 'Cache Purge'], ['Firewall'], ['Analytics'], ['Audit Logs Viewer'], ['Load Balancer'],
];

// Member variants by index: owner (the credential's user) first, several super admins, pending invites,
// users without 2FA, one member with no roles at all, members whose access comes from policies.
export function makeMember(rng: Rng, index: number, account: Account, ownerEmail: string, partial: Partial<Member> = {}): Member {
  const domain = account.settings.abuse_contact_email?.split('@')[1] ?? 'example.com';
  const p = index === 0 ? { first: 'Owen', last: 'Owner', email: ownerEmail } : person(rng, domain);
  const roleNames = index === 0 || index % 7 === 3 ? MEMBER_ROLES[0]! : index % 11 === 5 ? [] : MEMBER_ROLES[index % MEMBER_ROLES.length]!;
  const member: Member = {
    id: hexId(rng), email: p.email, status: index > 0 && index % 5 === 4 ? 'pending' : 'accepted',
    user: { id: hexId(rng), email: p.email, first_name: p.first, last_name: p.last, two_factor_authentication_enabled: index === 0 || index % 3 !== 2 },
    roles: roleNames.map(roleByName),
    policies: index % 4 === 1 ? [memberPolicy(rng, account, index)] : [],
  };
  if (member.status === 'pending') { member.user.first_name = null; member.user.last_name = null; }
  return { ...member, ...partial };
}

function memberPolicy(rng: Rng, account: Account, index: number): Record<string, unknown> {
  const names = index % 8 === 1 ? ['Account Settings Write', 'Account API Tokens Write'] : ['DNS Write', 'Zone Read'];
  return {
    id: hexId(rng), access: 'allow',
    permission_groups: names.map((n) => { const g = PERMISSION_GROUPS.find((x) => x.name === n)!; return { id: g.id, name: g.name, meta: { key: 'key', value: 'value' } }; }),
    resource_groups: [{ id: hexId(rng), name: `com.cloudflare.api.account.${account.id}`, meta: { editable: 'false' },
      scope: { key: `${SCOPE_ACCOUNT}.${account.id}`, objects: [{ key: '*' }] } }],
  };
}

export const accountRoles = (): Role[] => [...ROLES];

export function makeInvite(rng: Rng, index: number, ownerEmail: string, now: number, orgs: Array<{ id: string; name: string }>) {
  const org = orgs[index % Math.max(1, orgs.length)] ?? { id: hexId(rng), name: 'Partner Agency' };
  const invitedOn = now - int(rng, 1, 20) * DAY_MS;
  const expired = index % 3 === 2;
  return {
    id: hexId(rng), invited_member_id: index % 2 === 0 ? hexId(rng) : null, invited_member_email: ownerEmail,
    organization_id: org.id, organization_name: org.name, organization_is_enforcing_twofactor: index % 2 === 0,
    invited_by: `${pick(rng, FIRST).toLowerCase()}@${pick(rng, DOMAINS)}`, invited_on: isoSec(invitedOn),
    expires_on: isoSec(expired ? now - DAY_MS : invitedOn + 7 * DAY_MS), roles: [pick(rng, MEMBER_ROLES)[0]!],
    status: expired ? 'expired' : 'pending',
  };
}

export function makeOrganization(rng: Rng, index: number) {
  return { id: hexId(rng), name: ['Acme Holdings', 'Partner Agency', 'Contractor Org'][index % 3]! + (index >= 3 ? ` ${index}` : ''),
    permissions: ['#zones:read', '#dns_records:edit', '#analytics:read'].slice(0, 1 + (index % 3)),
    roles: [index % 2 === 0 ? 'Administrator' : 'DNS'], status: index % 3 === 2 ? 'invited' : 'member' };
}

const PLANS = [['free', 'Free Plan', 0], ['pro', 'Pro Plan', 20], ['business', 'Business Plan', 200], ['enterprise', 'Enterprise Plan', 5000]] as const;

export function makeSubscription(rng: Rng, index: number, now: number) {
  const [id, publicName, price] = PLANS[index % PLANS.length]!;
  const start = now - int(rng, 1, 27) * DAY_MS;
  return { id: hexId(rng), state: index % 5 === 4 ? 'Cancelled' : 'Paid', price, currency: 'USD', frequency: 'monthly',
    current_period_start: isoSec(start), current_period_end: isoSec(start + 30 * DAY_MS),
    rate_plan: { id, public_name: publicName, currency: 'USD', scope: 'zone', is_contract: id === 'enterprise', externally_managed: false, sets: [] } };
}

export function makeBillingItem(rng: Rng, index: number, now: number, zones: Zone[]) {
  const charge = index % 6 !== 5;
  return { id: hexId(rng), type: charge ? 'charge' : 'refund', action: pick(rng, ['subscription', 'renewal', 'upgrade']),
    description: `${pick(rng, ['Pro Plan', 'Argo Smart Routing', 'Load Balancing', 'Workers Paid'])} ${charge ? 'charge' : 'refund'}`,
    occurred_at: isoSec(now - (index + 1) * 9 * DAY_MS - int(rng, 0, DAY_MS)), amount: Number((int(rng, 500, 25000) / 100).toFixed(2)),
    currency: 'USD', zone: { name: pick(rng, zones).name } };
}

export function makeIpAccessRule(rng: Rng, index: number, now: number, user: { id: string; email: string }) {
  const target = ['ip', 'ip_range', 'country', 'asn', 'ip6'][index % 5]!;
  const value = target === 'ip' ? `198.51.100.${int(rng, 1, 254)}` : target === 'ip_range' ? `203.0.${int(rng, 0, 255)}.0/24`
    : target === 'country' ? pick(rng, ['RU', 'KP', 'CN', 'BR', 'T1']) : target === 'asn' ? `AS${int(rng, 1000, 65000)}` : `2001:db8::${hex(rng, 4)}`;
  const created = now - int(rng, 1, 700) * DAY_MS;
  return { id: hexId(rng), allowed_modes: ['whitelist', 'block', 'challenge', 'js_challenge', 'managed_challenge'],
    configuration: { target, value }, created_on: new Date(created).toISOString(), modified_on: new Date(created + int(rng, 0, 50) * DAY_MS).toISOString(),
    mode: pick(rng, ['block', 'challenge', 'whitelist', 'managed_challenge', 'js_challenge']), notes: index % 4 === 0 ? '' : `rule ${index} added by SOC`,
    scope: { id: user.id, email: user.email, type: 'user' } };
}
