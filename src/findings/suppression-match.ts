/** The part of a suppression that matching needs. */
export interface SuppressionRule {
  id: number;
  ruleId: string;
  resourcePattern: string;
  expiresAt: Date | null;
}

const globCache = new Map<string, RegExp>();

/** `*` matches any run of characters (including none); everything else is literal. */
export function globToRegExp(pattern: string): RegExp {
  let re = globCache.get(pattern);
  if (!re) {
    const body = pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
    re = new RegExp(`^${body}$`, 's');
    globCache.set(pattern, re);
  }
  return re;
}

export const patternMatches = (pattern: string, key: string) => (pattern.includes('*') ? globToRegExp(pattern).test(key) : pattern === key);

export const isActive = (s: SuppressionRule, now: Date) => s.expiresAt === null || s.expiresAt.getTime() > now.getTime();

/**
 * The suppression that covers (rule, resource) now, if any. When several do, the one that
 * lasts longest wins (no expiry first), then the oldest id: a stable choice run after run.
 */
export function matchSuppression(list: SuppressionRule[], ruleId: string, resourceKey: string, now: Date): SuppressionRule | undefined {
  let best: SuppressionRule | undefined;
  for (const s of list) {
    if (!isActive(s, now)) continue;
    if (s.ruleId !== '*' && s.ruleId !== ruleId) continue;
    if (!patternMatches(s.resourcePattern, resourceKey)) continue;
    if (!best || outlasts(s, best)) best = s;
  }
  return best;
}

function outlasts(a: SuppressionRule, b: SuppressionRule): boolean {
  const ea = a.expiresAt?.getTime() ?? Infinity;
  const eb = b.expiresAt?.getTime() ?? Infinity;
  return ea !== eb ? ea > eb : a.id < b.id;
}
