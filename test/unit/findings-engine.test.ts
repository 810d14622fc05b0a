import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { fingerprint, stableJson } from '../../src/findings/fingerprint.js';
import { type ExistingFinding, planFindings, type PreparedHit } from '../../src/findings/plan.js';
import { matchSuppression, patternMatches } from '../../src/findings/suppression-match.js';
import { resolveRuleSettings } from '../../src/rules/config.js';
import { checkStatement, codeOnly, parseHeader } from '../../src/rules/custom-sql.js';
import type { Rule } from '../../src/rules/types.js';

const hit = (key: string, over: Partial<PreparedHit> = {}): PreparedHit => ({
  fingerprint: fingerprint('r', key), resourceKey: key, resourceType: 'token', resourceName: null, accountId: null, severity: 'medium', facts: {}, suppressionId: null, ...over,
});
const stored = (key: string, over: Partial<ExistingFinding> = {}): ExistingFinding => ({
  id: 1, fingerprint: fingerprint('r', key), resourceKey: key, resourceType: 'token', resourceName: null, accountId: null, status: 'open', severity: 'medium', suppressed: false, suppressionId: null, facts: {}, reopenedCount: 0, ...over,
});
const kinds = (p: ReturnType<typeof planFindings>) => p.events.map((e) => `${e.transition}`);

describe('planFindings', () => {
  it('opens, refreshes quietly, records fact and severity changes, resolves, reopens', () => {
    expect(kinds(planFindings([], [hit('a')]))).toEqual(['opened']);
    const quiet = planFindings([stored('a', { facts: { x: 1, y: [1] } })], [hit('a', { facts: { y: [1], x: 1 } })]);
    expect([kinds(quiet), quiet.updates[0]!.changed, quiet.updates[0]!.seen]).toEqual([[], false, true]);
    expect(kinds(planFindings([stored('a')], [hit('a', { facts: { x: 2 } })]))).toEqual(['refreshed']);
    expect(kinds(planFindings([stored('a')], [hit('a', { severity: 'high', facts: { x: 2 } })]))).toEqual(['severity_changed']);
    const resolved = planFindings([stored('a')], []);
    expect([kinds(resolved), resolved.updates[0]!.status, resolved.updates[0]!.seen]).toEqual([['resolved'], 'resolved', false]);
    expect(kinds(planFindings([stored('a', { status: 'resolved' })], []))).toEqual([]);
    const reopened = planFindings([stored('a', { status: 'resolved', reopenedCount: 2 })], [hit('a')]);
    expect([kinds(reopened), reopened.updates[0]!.reopenedCount]).toEqual([['reopened'], 3]);
  });

  it('records suppression changes and ignores a resource returned twice', () => {
    expect(kinds(planFindings([stored('a')], [hit('a', { suppressionId: 4 })]))).toEqual(['suppressed']);
    expect(kinds(planFindings([stored('a', { suppressed: true, suppressionId: 4 })], [hit('a')]))).toEqual(['unsuppressed']);
    const twice = planFindings([], [hit('a', { facts: { n: 1 } }), hit('a', { facts: { n: 2 } })]);
    expect([twice.inserts.length, twice.inserts[0]!.facts]).toEqual([1, { n: 1 }]);
  });
});

describe('suppression matching', () => {
  const now = new Date('2030-01-01T00:00:00Z');
  it('matches exact keys and globs, literally otherwise', () => {
    expect(patternMatches('token:abc', 'token:abc')).toBe(true);
    expect(patternMatches('token:ab', 'token:abc')).toBe(false);
    expect(patternMatches('token:*', 'token:abc')).toBe(true);
    expect(patternMatches('member:*:42', 'member:acc:42')).toBe(true);
    expect(patternMatches('member:*:42', 'member:acc:421')).toBe(false);
    expect(patternMatches('a.b*', 'axb')).toBe(false);
    expect(patternMatches('(x)+*', '(x)+y')).toBe(true);
  });
  it('skips expired ones and other rules; prefers the longest-lasting', () => {
    const list = [
      { id: 1, ruleId: 'r', resourcePattern: 'token:*', expiresAt: new Date('2029-12-31T00:00:00Z') },
      { id: 2, ruleId: 'other', resourcePattern: 'token:*', expiresAt: null },
      { id: 3, ruleId: '*', resourcePattern: 'token:a', expiresAt: new Date('2030-02-01T00:00:00Z') },
      { id: 4, ruleId: 'r', resourcePattern: 'token:a*', expiresAt: null },
    ];
    expect(matchSuppression(list, 'r', 'token:a', now)?.id).toBe(4);
    expect(matchSuppression(list.slice(0, 3), 'r', 'token:a', now)?.id).toBe(3);
    expect(matchSuppression(list.slice(0, 2), 'r', 'token:a', now)).toBeUndefined();
  });
});

describe('custom rule files', () => {
  it('reads the header', () => {
    expect(parseHeader('-- id: my.rule\n-- title: T\n-- severity: HIGH\n-- requires: audit_logs\nselect 1')).toEqual({
      id: 'my.rule', title: 'T', severity: 'high', rationale: '', remediation: '', requires: ['audit_logs'],
    });
    expect(() => parseHeader('-- title: T\nselect 1')).toThrow(/missing header "-- id/);
    expect(() => parseHeader('-- id: x\n-- title: T\n-- severity: urgent\nselect 1')).toThrow(/bad severity/);
    expect(() => parseHeader('-- id: Bad Id\n-- title: T')).toThrow(/bad id/);
  });

  it('accepts one SELECT/WITH, with ; and keywords inside literals and comments', () => {
    expect(checkStatement(`select 'a;b' as x, $$;delete$$ as y, E'it\\'s;' as z /* ; */ -- ;\n;\n-- end`)).toBe(`select 'a;b' as x, $$;delete$$ as y, E'it\\'s;' as z /* ; */ -- ;\n`);
    expect(checkStatement('  (select 1)')).toBe('  (select 1)');
    expect(checkStatement('with a as (select 1) select * from a')).toBe('with a as (select 1) select * from a');
    expect(() => checkStatement('select 1; select 2')).toThrow(/more than one statement/);
    expect(() => checkStatement('update t set x = 1')).toThrow(/not UPDATE/);
    expect(() => checkStatement('-- only a comment\n')).toThrow(/no SQL statement/);
    expect(codeOnly(`a '--x' "y;" b`)).toHaveLength(`a '--x' "y;" b`.length);
  });
});

describe('rule settings', () => {
  const rule = { id: 'r', title: 't', severity: 'low', rationale: '', remediation: '', thresholds: { days: { default: 30, description: '' } }, evaluate: async () => [] } as Rule;
  const config = (rules: Record<string, Record<string, unknown>>) => ({ ...loadConfig({}), rules });
  it('config values over defaults, coerced; bad values named', () => {
    expect(resolveRuleSettings(rule, config({}))).toMatchObject({ enabled: true, severity: 'low', thresholds: { days: 30 }, problems: [] });
    expect(resolveRuleSettings(rule, config({ r: { days: '7', enabled: 'false', severity: 'critical' } }))).toMatchObject({ enabled: false, severity: 'critical', severityOverride: 'critical', thresholds: { days: 7 } });
    expect(resolveRuleSettings(rule, config({ r: { days: 'soon', severity: 'meh' } })).problems).toEqual([
      'rules.r.severity: expected one of info, low, medium, high, critical',
      'rules.r.days: expected a value like 30',
    ]);
  });
  it('the fingerprint and stable JSON do not depend on key order', () => {
    expect(fingerprint('a', 'b:c')).not.toBe(fingerprint('a:b', 'c'));
    expect(stableJson({ b: 1, a: { d: 2, c: 3 } })).toBe(stableJson({ a: { c: 3, d: 2 }, b: 1 }));
  });
});
