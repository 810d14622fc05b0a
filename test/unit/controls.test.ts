import { describe, expect, it } from 'vitest';
import { CONTROLS, REVIEW_CONTROLS, controlLabel, controlMatches, parseControl, rulesForControl } from '../../src/compliance/controls.js';
import { BUILTIN_RULES } from '../../src/rules/catalog.js';
import { parseHeader } from '../../src/rules/custom-sql.js';

describe('control references', () => {
  it('every built-in rule names the controls it supports, each in the catalogue, in all three frameworks', () => {
    for (const rule of BUILTIN_RULES) {
      expect(rule.controls?.length, rule.id).toBeGreaterThan(0);
      for (const c of rule.controls!) expect(CONTROLS[c], `${rule.id}: ${c}`).toBeDefined();
      expect(new Set(rule.controls!.map((c) => c.split(':')[0])), rule.id).toEqual(new Set(['SOC2', 'ISO27001', 'PCI']));
    }
    for (const c of REVIEW_CONTROLS) expect(CONTROLS[c]).toBeDefined();
  });

  it('--control matches the control or one below it, with or without the framework', () => {
    expect(controlMatches('SOC2:CC6.1', 'CC6.1')).toBe(true);
    expect(controlMatches('SOC2:CC6.1', 'cc6')).toBe(true);
    expect(controlMatches('SOC2:CC6.1', 'SOC2:CC6.1')).toBe(true);
    expect(controlMatches('SOC2:CC6.1', 'PCI:CC6.1')).toBe(false);
    expect(controlMatches('SOC2:CC6.1', 'CC6.10')).toBe(false);
    expect(controlMatches('SOC2:CC6.10', 'CC6.1')).toBe(false);
    expect(controlMatches('PCI:8.2.6', '8.2')).toBe(true);
    expect(controlMatches('PCI:8.2.6', '8.2.')).toBe(false);
    expect(controlMatches('ISO27001:A.5.18', 'A.5')).toBe(true);
  });

  it('finds the rules of a control; a control no rule supports is refused with a suggestion', () => {
    expect(rulesForControl('A.8.2', BUILTIN_RULES).sort()).toEqual(['audit-admin-member-added', 'audit-token-broad-grant', 'group-admin-too-many', 'token-broad-policy', 'too-many-super-admins']);
    expect(() => rulesForControl('CC6.11', BUILTIN_RULES)).toThrow('findings --control: no rule supports "CC6.11" (did you mean "CC6.1"?)');
  });

  it('a custom rule header takes FRAMEWORK:ID (its own frameworks too) or a bare known id; anything else is refused', () => {
    const h = parseHeader('-- id: x\n-- title: t\n-- controls: cc6.1, iso27001:a.5.15, ACME:IAM-7, SOC2:CC6.1\nselect 1');
    expect(h.controls).toEqual(['SOC2:CC6.1', 'ISO27001:A.5.15', 'ACME:IAM-7']);
    expect(parseHeader('-- id: x\n-- title: t\nselect 1').controls).toEqual([]);
    expect(() => parseHeader('-- id: x\n-- title: t\n-- controls: least privilege\nselect 1')).toThrow('bad control "least privilege": write FRAMEWORK:ID');
    expect(parseControl('8.2.6')).toBe('PCI:8.2.6');
  });

  it('labels name the framework in full', () => {
    expect(['SOC2:CC6.1', 'ISO27001:A.8.5', 'PCI:7.2.4', 'ACME:IAM-7'].map(controlLabel)).toEqual(['SOC 2 CC6.1', 'ISO/IEC 27001:2022 A.8.5', 'PCI DSS v4.0 7.2.4', 'ACME IAM-7']);
  });
});
