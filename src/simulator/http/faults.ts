import { hash32, mulberry32 } from '../prng.js';
import type { Query } from './params.js';

export const FAULT_KINDS = ['5xx', '429', 'reset', 'malformed', 'truncated', 'html', 'slow', 'repeat-page', 'poison-entry',
  'error', 'cut-body', 'future-entry', 'null-result', 'odd-result-info', 'shift-listing', 'slow-drip', 'huge-body', 'over-page'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/**
 * One fault. `match` values are exact, or '*' for "the parameter is present with any value".
 * `code`/`message`: the Cloudflare error of an 'error' fault (default 1001 "Invalid request", status 400).
 * `replace`: a 'shift-listing' fault also appends a new item, so total_count stays the same.
 * `bytes`: the drip's piece size ('slow-drip', delayMs apart) or the padding of a 'huge-body'.
 * `entries`: how many items an 'over-page' page holds (default one more than asked).
 */
export interface FaultRule {
  route: string; kind: FaultKind; probability?: number; count?: number; skip?: number;
  status?: number; retryAfter?: number; delayMs?: number; match?: Record<string, string>;
  code?: number; message?: string; replace?: boolean; bytes?: number; entries?: number;
}

interface RuleState { seen: number; applied: number }

const matches = (query: Query, match: Record<string, string>) =>
  Object.entries(match).every(([k, v]) => (v === '*' ? query[k] !== undefined : query[k] === v));

/**
 * Decides which faults hit a request. Draws come from a PRNG seeded by (seed, rule index, n-th matching
 * request), so the same seed and the same request sequence give the same faults.
 */
export class FaultPlan {
  private state: RuleState[] = [];
  constructor(private rules: FaultRule[], private readonly seed: number) { this.reset(rules); }

  reset(rules: FaultRule[]): void {
    this.rules = rules;
    this.state = rules.map(() => ({ seen: 0, applied: 0 }));
  }

  pick(route: string, query: Query): FaultRule[] {
    const hits: FaultRule[] = [];
    this.rules.forEach((rule, index) => {
      if (rule.route !== '*' && rule.route !== route) return;
      if (rule.match && !matches(query, rule.match)) return;
      const st = this.state[index]!;
      const n = st.seen++;
      if (n < (rule.skip ?? 0)) return;
      if (rule.count !== undefined && st.applied >= rule.count) return;
      const p = rule.probability ?? 1;
      if (p < 1 && mulberry32(hash32(this.seed, 'fault', index, n))() >= p) return;
      st.applied++;
      hits.push(rule);
    });
    return hits;
  }
}

/** The page Cloudflare's edge serves when the origin API is unreachable. */
export function htmlErrorPage(status: number): string {
  const title = status === 502 ? 'Bad gateway' : status === 504 ? 'Gateway time-out' : 'Internal server error';
  return `<!DOCTYPE html>\n<html lang="en-US"><head><title>api.cloudflare.com | ${status}: ${title}</title></head>` +
    `<body><div id="cf-error-details"><h1>${title}</h1><span>Error code ${status}</span>` +
    `<p>Visit <a href="https://www.cloudflare.com/">cloudflare.com</a> for more information.</p>` +
    `<div class="cf-footer">Cloudflare Ray ID: <strong>8e8dd2156ef28414</strong></div></div></body></html>\n`;
}
