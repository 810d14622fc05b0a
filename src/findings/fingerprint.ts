import { createHash } from 'node:crypto';

/** A finding's identity: the same rule on the same resource is the same finding, run after run. */
export const fingerprint = (ruleId: string, resourceKey: string) =>
  createHash('sha256').update(ruleId).update('\0').update(resourceKey).digest('hex');

/** JSON with object keys sorted, so facts read back from jsonb compare equal to fresh ones. */
export function stableJson(value: unknown): string {
  const sortDeep = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortDeep);
    if (v instanceof Date) return v.toISOString();
    if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => [k, sortDeep(o[k])]));
    }
    return v;
  };
  return JSON.stringify(sortDeep(value));
}
