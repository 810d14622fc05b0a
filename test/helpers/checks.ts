import { Writable } from 'node:stream';
import { credentialAccesses } from '../../src/credentials/access.js';
import { loadConfig } from '../../src/config.js';
import type { Context } from '../../src/context.js';
import { createLogger } from '../../src/log.js';
import type { Rule, RuleHit, Severity } from '../../src/rules/types.js';
import type { TestDatabase } from './database.js';

export interface CheckTestContext extends Context {
  logLines: string[];
  /** Move the clock the engine sees. */
  setNow(d: Date): void;
}

/** A Context for rule/finding tests: no Cloudflare, a clock the test controls, config from `configFile` values. */
export function checkContext(db: TestDatabase, opts: { env?: Record<string, string>; rules?: Record<string, Record<string, unknown>>; now?: Date } = {}): CheckTestContext {
  const config = loadConfig({ DATABASE_URL: db.url, LOG_LEVEL: 'debug', FLAREWATCH_RULES_DIR: '/nonexistent-rules-dir', ...opts.env });
  if (opts.rules) config.rules = opts.rules;
  const logLines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
  let now = opts.now ?? new Date();
  return {
    db: db.db,
    log: createLogger({ level: 'debug', format: 'json', secrets: [], destination: sink }),
    config,
    credentials: credentialAccesses(config),
    now: () => now,
    logLines,
    setNow(d: Date) {
      now = d;
    },
  };
}

/** A rule whose hits the test sets before each run. */
export function fakeRule(id: string, opts: { severity?: Severity; requires?: Rule['requires']; thresholds?: Rule['thresholds'] } = {}) {
  const state = { hits: [] as RuleHit[], throws: undefined as string | undefined, lastThresholds: {} as Record<string, unknown> };
  const rule: Rule = {
    id,
    title: `fake rule ${id}`,
    severity: opts.severity ?? 'medium',
    rationale: `why ${id} matters`,
    remediation: `fix ${id}`,
    requires: opts.requires,
    thresholds: opts.thresholds,
    async evaluate(ctx) {
      state.lastThresholds = ctx.thresholds;
      if (state.throws) throw new Error(state.throws);
      return state.hits;
    },
  };
  return { rule, state };
}

export const tokenHit = (id: string, facts: Record<string, unknown> = {}, severity?: Severity): RuleHit => ({
  resourceKey: `token:${id}`,
  resourceType: 'token',
  resourceName: `token ${id}`,
  accountId: 'acc1',
  severity,
  facts,
});
