import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { fingerprint, stableJson } from '../../src/findings/fingerprint.js';
import { matchSuppression, patternMatches } from '../../src/findings/suppression-match.js';
import { resolveRuleSettings } from '../../src/rules/config.js';
import { parseHeader } from '../../src/rules/custom-sql.js';
import { tokenExpiring } from '../../src/rules/token-expiring.js';
import type { Rule } from '../../src/rules/types.js';

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
      id: 'my.rule', title: 'T', severity: 'high', rationale: '', remediation: '', requires: ['audit_logs'], kind: 'state', controls: [],
    });
    expect(parseHeader('-- id: my.rule\n-- title: T\n-- controls: cc6.1, PCI:8.2.6, cc6.1\nselect 1').controls).toEqual(['SOC2:CC6.1', 'PCI:8.2.6']);
    expect(parseHeader('-- id: my.rule\n-- title: T\n-- kind: detection\nselect 1').kind).toBe('detection');
    expect(() => parseHeader('-- id: x\n-- title: T\n-- kind: event\nselect 1')).toThrow(/bad kind "event"/);
    expect(() => parseHeader('-- title: T\nselect 1')).toThrow(/missing header "-- id/);
    expect(() => parseHeader('-- id: x\n-- title: T\n-- severity: urgent\nselect 1')).toThrow(/bad severity/);
    expect(() => parseHeader('-- id: Bad Id\n-- title: T')).toThrow(/bad id/);
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
  it('token-expiring tiers: pairs of days and severity, validated; the old lists migrated when unambiguous, refused otherwise', () => {
    const tiers = (given: Record<string, unknown>) => resolveRuleSettings(tokenExpiring, config({ 'token-expiring': given }));
    expect(tiers({}).thresholds.tiers).toEqual([{ days: 30, severity: 'low' }, { days: 7, severity: 'medium' }, { days: 1, severity: 'high' }]);
    expect(tiers({ tiers: [{ days: 1, severity: 'high' }, { days: 14, severity: 'low' }] })).toMatchObject({
      problems: [], thresholds: { tiers: [{ days: 14, severity: 'low' }, { days: 1, severity: 'high' }] },
    });
    // The case that inverted: [1, 7, 30] with [high, medium, low] gave 30 days "high" and 1 day "low".
    const inverted = tiers({ windows: [1, 7, 30], severities: ['high', 'medium', 'low'] });
    expect(inverted.problems).toEqual([expect.stringMatching(/rules\.token-expiring\.windows\/severities: .*ambiguous.*write tiers instead \(paired as written: tiers: \[\{days: 1, severity: high\}, \{days: 7, severity: medium\}, \{days: 30, severity: low\}\]\)/)]);
    const migrated = tiers({ windows: '30, 7, 1', severities: 'low, high, critical' });
    expect(migrated).toMatchObject({ problems: [], thresholds: { tiers: [{ days: 30, severity: 'low' }, { days: 7, severity: 'high' }, { days: 1, severity: 'critical' }] } });
    expect(migrated.notes).toEqual([expect.stringMatching(/read as tiers: .*write tiers instead/)]);
    expect(tiers({ windows: [14, 3] }).thresholds.tiers).toEqual([{ days: 14, severity: 'low' }, { days: 3, severity: 'medium' }]);
    expect(tiers({ windows: [30, 7], severities: ['low'] }).problems).toEqual([expect.stringMatching(/ambiguous/)]);
    expect(tiers({ tiers: [{ days: 7, severity: 'urgent' }] }).problems).toEqual([expect.stringMatching(/^rules\.token-expiring\.tiers: 0\.severity: severity must be one of info, low/)]);
    expect(tiers({ tiers: [{ days: 7, severity: 'low' }, { days: 7, severity: 'high' }] }).problems).toEqual(['rules.token-expiring.tiers: two tiers with the same days']);
    expect(tiers({ tiers: [{ days: 7, severity: 'low' }], windows: [7] }).problems).toEqual(['rules.token-expiring: give tiers only (windows and severities are its old form)']);
  });

  it('the fingerprint and stable JSON do not depend on key order', () => {
    expect(fingerprint('a', 'b:c')).not.toBe(fingerprint('a:b', 'c'));
    expect(stableJson({ b: 1, a: { d: 2, c: 3 } })).toBe(stableJson({ a: { c: 3, d: 2 }, b: 1 }));
  });
});
