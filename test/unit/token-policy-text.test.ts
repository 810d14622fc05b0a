import { describe, expect, it } from 'vitest';
import { tokenGrants } from '../../src/history/describe.js';
import { stateText } from '../../src/review/render-remediation.js';

// A token's policies are written two ways: the history's one line per grant, and the review
// evidence's one line per policy inside a state cell. Both come from one reading of the policies.
const ZONE_ALL = 'com.cloudflare.api.account.zone.*';
const ACCOUNT = 'com.cloudflare.api.account.0123';
const ZONE = 'com.cloudflare.api.account.zone.z1';
const policies = [
  {
    effect: 'allow',
    permission_groups: [{ id: 'g-dns-read', name: 'DNS Read' }, { id: 'g-unnamed' }],
    resources: { [ZONE_ALL]: '*', [ACCOUNT]: { [ZONE]: '*' } },
  },
  { effect: 'deny', permission_groups: [{ id: 'g-zone-write', name: 'Zone Write' }], resources: { [ZONE]: 'read' } },
  { effect: 'allow', permission_groups: [{ id: 'g-dns-read', name: 'DNS Read' }], resources: { [ZONE_ALL]: '*' } },
  { effect: 'allow', permission_groups: [], resources: { [ZONE]: '*' } },
];

describe('a token policy in words', () => {
  it('history: one line per group × resource, nested resources and values shown, sorted, once each', () => {
    expect(tokenGrants(policies, new Map([['g-unnamed', 'Zone Read']]))).toEqual([
      `allow DNS Read on ${ACCOUNT} > ${ZONE}`,
      `allow DNS Read on ${ZONE_ALL}`,
      `allow Zone Read on ${ACCOUNT} > ${ZONE}`,
      `allow Zone Read on ${ZONE_ALL}`,
      `deny Zone Write on ${ZONE} = read`,
    ]);
    expect(tokenGrants([{ effect: 'allow', permission_groups: [{ id: 'g' }] }])).toEqual(['allow g on (no resource)']);
    expect(tokenGrants('not a list')).toEqual([]);
  });

  it('review: one line per policy, groups and resource keys joined, in the order given', () => {
    expect(stateText({ status: 'active', policies })).toBe(
      `status=active, policies=allow DNS Read + g-unnamed on ${ZONE_ALL} + ${ACCOUNT}; deny Zone Write on ${ZONE}; allow DNS Read on ${ZONE_ALL}; allow  on ${ZONE}`,
    );
    expect(stateText({ policies: [{ effect: 'allow', permission_groups: [{ id: 'g' }] }, null] })).toBe('policies=allow g on ; ?  on ');
    expect(stateText(null)).toBe('gone');
  });
});
