import { describe, expect, it } from 'vitest';
import {
  ALL_ACCOUNTS, ALL_ZONES, assessPolicies, assessmentFacts, groupNamesOf, isAllow, isBroadResource, isSensitiveGroup, isWriteGroup,
  resourceKeys, severityOf,
} from '../../src/rules/policy-model.js';
import { isCidr } from '../../src/rules/audit-ip-not-allowed.js';
import { tiersSchema } from '../../src/rules/severity-tiers.js';

const ACCT = 'com.cloudflare.api.account.0123abcd';
const ZONE = 'com.cloudflare.api.account.zone.feedbeef';
const allow = (groups: Array<string | { id: string; name?: string }>, resources: unknown, extra: Record<string, unknown> = {}) =>
  ({ id: 'p', effect: 'allow', permission_groups: groups.map((g) => (typeof g === 'string' ? { id: `id-${g}`, name: g } : g)), resources, ...extra });

describe('resources', () => {
  it('unnests the account → zones form and keeps flat keys', () => {
    expect(resourceKeys({ [ALL_ZONES]: '*', [ACCT]: '*' })).toEqual([ALL_ZONES, ACCT]);
    expect(resourceKeys({ [ACCT]: { [ALL_ZONES]: '*' } })).toEqual([ALL_ZONES]);
    expect(resourceKeys({ [ACCT]: {} })).toEqual([ACCT]);
    expect(resourceKeys(null)).toEqual([]);
    expect(resourceKeys(['x'])).toEqual([]);
  });

  it('broad means every account or every zone, nothing narrower', () => {
    expect(isBroadResource(ALL_ACCOUNTS)).toBe(true);
    expect(isBroadResource(ALL_ZONES)).toBe(true);
    expect(isBroadResource(ACCT)).toBe(false);
    expect(isBroadResource(ZONE)).toBe(false);
    expect(isBroadResource('com.cloudflare.api.user.*')).toBe(false);
  });
});

describe('permission groups', () => {
  it('write: last word Write or Edit, or a listed write group, case-insensitively', () => {
    for (const n of ['Zone Write', 'DNS Write', 'Zaraz Edit', 'cache purge', 'Cache Purge']) expect(isWriteGroup(n), n).toBe(true);
    for (const n of ['Zone Read', 'Writers Read', 'Rewrite Rules Read', 'Overwrite']) expect(isWriteGroup(n), n).toBe(false);
    expect(isWriteGroup('Workers Tail', ['Workers Tail'])).toBe(true);
  });

  it('sensitive: the listed groups only, case-insensitively', () => {
    for (const n of ['API Tokens Write', 'account api tokens write', 'Memberships Write', 'Account Settings Write', 'Billing Write', 'User Details Write',
      'Access: Organizations, Identity Providers, and Groups Write']) expect(isSensitiveGroup(n), n).toBe(true);
    for (const n of ['API Tokens Read', 'Billing Read', 'Zone Write']) expect(isSensitiveGroup(n), n).toBe(false);
  });

  it('names come from the policy, else from the catalogue by id', () => {
    const p = allow([{ id: 'g1' }, { id: 'g2', name: 'DNS Read' }, { id: 'unknown' }], {});
    expect(groupNamesOf(p, new Map([['g1', 'Billing Write']]))).toEqual(['Billing Write', 'DNS Read']);
  });

  it('effect: allow (or member policies\' access: allow); anything else grants nothing', () => {
    expect(isAllow({ effect: 'allow' })).toBe(true);
    expect(isAllow({ access: 'ALLOW' })).toBe(true);
    expect(isAllow({ effect: 'deny' })).toBe(false);
    expect(isAllow({})).toBe(false);
  });
});

describe('assessPolicies', () => {
  it('write on all zones → broad_write (high)', () => {
    const a = assessPolicies([allow(['Zone Write', 'Zone Read'], { [ALL_ZONES]: '*' })]);
    expect(a.verdict).toBe('broad_write');
    expect(a.broad_write).toEqual([{ policy_id: 'p', groups: ['Zone Write'], resources: [ALL_ZONES] }]);
    expect(severityOf(a)).toBe('high');
  });

  it('write on all zones of one account (nested) and on all accounts → broad_write', () => {
    expect(assessPolicies([allow(['Cache Purge'], { [ACCT]: { [ALL_ZONES]: '*' } })]).verdict).toBe('broad_write');
    expect(assessPolicies([allow(['Workers Scripts Write'], { [ALL_ACCOUNTS]: '*' })]).verdict).toBe('broad_write');
  });

  it('a sensitive group anywhere → sensitive (critical), even on one account', () => {
    const a = assessPolicies([allow(['Account API Tokens Write'], { [ACCT]: '*' }), allow(['Zone Write'], { [ALL_ZONES]: '*' })]);
    expect(a.verdict).toBe('sensitive');
    expect(severityOf(a)).toBe('critical');
    expect(a.sensitive).toEqual([{ policy_id: 'p', group: 'Account API Tokens Write', resources: [ACCT] }]);
    expect(a.broad_write).toHaveLength(1);
  });

  it('sensitive found through the catalogue when the policy lists ids only', () => {
    const a = assessPolicies([allow([{ id: 'g' }], { [ACCT]: '*' })], { groupNames: new Map([['g', 'Billing Write']]) });
    expect(a.verdict).toBe('sensitive');
  });

  it('not broad: reads on everything, writes on one zone or account, deny policies, junk', () => {
    expect(assessPolicies([allow(['Zone Read', 'Analytics Read'], { [ALL_ZONES]: '*' })]).verdict).toBeNull();
    expect(assessPolicies([allow(['DNS Write'], { [ZONE]: '*' })]).verdict).toBeNull();
    expect(assessPolicies([allow(['Workers Scripts Write'], { [ACCT]: '*' })]).verdict).toBeNull();
    expect(assessPolicies([{ ...allow(['Billing Write', 'Zone Write'], { [ALL_ZONES]: '*' }), effect: 'deny' }]).verdict).toBeNull();
    expect(assessPolicies(null).verdict).toBeNull();
    expect(assessPolicies([null, 'x', { effect: 'allow' }]).verdict).toBeNull();
  });

  it('deny policies are not subtracted from an allow', () => {
    const a = assessPolicies([allow(['Zone Write'], { [ALL_ZONES]: '*' }), { effect: 'deny', permission_groups: [{ name: 'Zone Write' }], resources: { [ZONE]: '*' } }]);
    expect(a.verdict).toBe('broad_write');
  });

  it('configurable lists', () => {
    expect(assessPolicies([allow(['DNS Write'], { [ZONE]: '*' })], { sensitiveGroups: ['DNS Write'] }).verdict).toBe('sensitive');
    expect(assessPolicies([allow(['Billing Write'], { [ACCT]: '*' })], { sensitiveGroups: [] }).verdict).toBeNull();
  });

  it('facts carry the verdict, the causes and the model', () => {
    const f = assessmentFacts(assessPolicies([allow(['Billing Write'], { [ACCT]: '*' }), allow(['Billing Write'], { [ALL_ACCOUNTS]: '*' })]));
    expect(f).toMatchObject({ verdict: 'sensitive', sensitive_groups: ['Billing Write'] });
    expect(f.policy_model).toMatch(/deny policies are not subtracted/);
  });
});

describe('other rule predicates', () => {
  it('expiry tiers are read widest first, whatever order they are written in (the rule picks the narrowest in SQL: rules-tokens)', () => {
    const tiers = tiersSchema.parse([{ days: 1, severity: 'high' }, { days: 30, severity: 'low' }, { days: '7', severity: 'medium' }]);
    expect(tiers.map((t) => t.days)).toEqual([30, 7, 1]);
  });

  it('CIDRs for the allowed-IP list', () => {
    for (const c of ['192.0.2.0/24', '192.0.2.7', '2001:db8::/32', '0.0.0.0/0']) expect(isCidr(c), c).toBe(true);
    for (const c of ['192.0.2.0/33', '2001:db8::/129', 'example.com', '192.0.2.0/', '1.2.3.4/8/9', '']) expect(isCidr(c), c).toBe(false);
  });
});
