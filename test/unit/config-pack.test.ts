import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { configProblems as problems } from '../helpers/config.js';

describe('audit.packAfterDays', () => {
  it('defaults to 7, takes 0 (no automatic packing) and whole days, and names the variable when wrong', () => {
    expect(loadConfig({}).audit.packAfterDays).toBe(7);
    expect(loadConfig({ FLAREWATCH_AUDIT_PACK_AFTER_DAYS: '0' }).audit.packAfterDays).toBe(0);
    expect(loadConfig({ FLAREWATCH_AUDIT_PACK_AFTER_DAYS: '30' }).audit.packAfterDays).toBe(30);
    expect(problems({ FLAREWATCH_AUDIT_PACK_AFTER_DAYS: '-1' })).toEqual([expect.stringMatching(/^FLAREWATCH_AUDIT_PACK_AFTER_DAYS \(audit\.packAfterDays\): must be at least 0/)]);
    expect(problems({ FLAREWATCH_AUDIT_PACK_AFTER_DAYS: 'a week' })).toEqual([expect.stringMatching(/^FLAREWATCH_AUDIT_PACK_AFTER_DAYS \(audit\.packAfterDays\): /)]);
  });
});
