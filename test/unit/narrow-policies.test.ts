import { describe, expect, it } from 'vitest';
import { accountLevel, narrowPolicies } from '../../src/access/narrow-policies.js';

const ZONE = 'com.cloudflare.api.account.zone.z1';
const ACCT = 'com.cloudflare.api.account.a1';
const g = (name: string) => ({ id: `id-${name}`, name });
const allow = (names: string[], resources: Record<string, unknown> = { [ZONE]: '*' }) =>
  ({ id: `p-${names.join('+')}`, effect: 'allow', permission_groups: names.map(g), resources });

describe('narrowPolicies', () => {
  it('keeps read groups and used write groups, drops unused write groups, drops a policy left empty; resources unchanged', () => {
    const n = narrowPolicies([allow(['DNS Write', 'Zone Settings Write', 'Zone Read']), allow(['Workers Scripts Write'], { [ACCT]: '*' })], { used: ['DNS Write'] });
    expect(n.unusedWrite).toEqual(['Zone Settings Write', 'Workers Scripts Write']);
    expect(n.usedWrite).toEqual(['DNS Write']);
    expect(n.policies).toEqual([{ effect: 'allow', permission_groups: [g('DNS Write'), g('Zone Read')], resources: { [ZONE]: '*' } }]);
    expect(n.incomplete).toEqual([]);
  });

  it('never drops a read group, even one never seen used (reads are not logged)', () => {
    const n = narrowPolicies([allow(['Zone Read', 'DNS Read', 'Analytics Read'])], { used: [] });
    expect(n.unusedWrite).toEqual([]);
    expect(n.policies[0]!.permission_groups.map((x) => x.name)).toEqual(['Zone Read', 'DNS Read', 'Analytics Read']);
  });

  it('compares used names case-insensitively and counts configured write groups (Cache Purge) as write', () => {
    const n = narrowPolicies([allow(['dns write', 'Cache Purge'])], { used: ['DNS Write'], writeGroups: ['Cache Purge'] });
    expect(n).toMatchObject({ unusedWrite: ['Cache Purge'], usedWrite: ['dns write'] });
    expect(narrowPolicies([allow(['Cache Purge'])], { used: [], writeGroups: [] }).unusedWrite).toEqual([]);
  });

  it('keeps deny policies whole (dropping one could only widen the token)', () => {
    const deny = { id: 'd', effect: 'deny', permission_groups: [g('Zone Settings Write')], resources: { [ZONE]: '*' } };
    const n = narrowPolicies([allow(['DNS Write', 'Zone Settings Write']), deny], { used: ['DNS Write'] });
    expect(n.policies).toEqual([
      { effect: 'allow', permission_groups: [g('DNS Write')], resources: { [ZONE]: '*' } },
      { effect: 'deny', permission_groups: [g('Zone Settings Write')], resources: { [ZONE]: '*' } }]);
    expect(n.unusedWrite).toEqual(['Zone Settings Write']);
  });

  it('keeps user-level policies whole: writes to a user\'s own tokens are not in an account\'s audit log', () => {
    const user = allow(['API Tokens Write'], { 'com.cloudflare.api.user.u1': '*' });
    const n = narrowPolicies([user, allow(['DNS Write'])], { used: ['DNS Write'] });
    expect(n.unusedWrite).toEqual([]);
    expect(n.notJudged).toEqual(['API Tokens Write']);
    expect(n.policies).toHaveLength(2);
  });

  it('names groups listed by id from the catalogue; a group it cannot name is kept, not judged', () => {
    const byId = { effect: 'allow', permission_groups: [{ id: 'id-ws' }, { id: 'id-unknown' }], resources: { [ACCT]: '*' } };
    const n = narrowPolicies([byId], { used: [], groupNames: new Map([['id-ws', 'Workers Scripts Write']]) });
    expect(n.unusedWrite).toEqual(['Workers Scripts Write']);
    expect(n.policies).toEqual([{ effect: 'allow', permission_groups: [{ id: 'id-unknown', name: 'id-unknown' }], resources: { [ACCT]: '*' } }]);
  });

  it('member policies say `access` instead of `effect`; nested account → zone resources are copied, not shared', () => {
    const resources = { [ACCT]: { 'com.cloudflare.api.account.zone.*': '*' } };
    const n = narrowPolicies([{ access: 'allow', permission_groups: [g('DNS Write'), g('Zone Write')], resources }], { used: ['Zone Write'] });
    expect(n.policies).toEqual([{ effect: 'allow', permission_groups: [g('Zone Write')], resources }]);
    expect(n.policies[0]!.resources).not.toBe(resources);
  });

  it('says why the result cannot be applied as it is: a group without id, a policy without effect', () => {
    const n = narrowPolicies([{ effect: 'allow', permission_groups: [{ name: 'DNS Write' }], resources: {} }, { permission_groups: [] }, 'junk'], { used: ['DNS Write'] });
    expect(n.incomplete).toEqual(['permission group DNS Write has no id', 'a policy has no allow/deny effect', 'a policy has no allow/deny effect']);
  });

  it('anything but an array grants nothing and suggests nothing', () => {
    expect(narrowPolicies(null, { used: [] })).toEqual({ unusedWrite: [], usedWrite: [], notJudged: [], policies: [], incomplete: [] });
  });
});

describe('accountLevel', () => {
  it('true only when every key, outer and nested, is an account or zone key', () => {
    expect(accountLevel({ [ZONE]: '*' })).toBe(true);
    expect(accountLevel({ [ACCT]: { 'com.cloudflare.api.account.zone.*': '*' } })).toBe(true);
    expect(accountLevel({ 'com.cloudflare.api.user.u1': '*' })).toBe(false);
    expect(accountLevel({ 'com.cloudflare.edge.r2.bucket.a1_default_b': '*' })).toBe(false);
    expect(accountLevel({})).toBe(false);
  });
});
