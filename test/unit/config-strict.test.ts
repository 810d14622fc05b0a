import { describe, expect, it } from 'vitest';
import { configSchema, loadConfig } from '../../src/config.js';
import { defOf, walkSchema } from '../../src/config/shape.js';
import { configFiles, configProblems as problems } from '../helpers/config.js';

const { file } = configFiles('flarewatch-strict-');
let n = 0;
const yamlFile = (text: string, ext = 'yaml') => file(`c${n++}.${ext}`, text);

const fromFile = (text: string) => problems({ FLAREWATCH_CONFIG: yamlFile(text) });

describe('unknown settings are errors, at every level, with "did you mean"', () => {
  it('names the misspelt key and suggests the known one', () => {
    expect(fromFile('audit:\n  overlapp: 15m\n')).toEqual(['audit.overlapp: unknown setting (did you mean "overlap"?)']);
    expect(fromFile('databse:\n  url: postgres://h/db\n')).toEqual(['databse: unknown setting (did you mean "database"?)']);
    expect(fromFile('alerts:\n  backoff:\n    intial: 1m\n')).toEqual(['alerts.backoff.intial: unknown setting (did you mean "initial"?)']);
  });

  it('a sink key that is misspelt (minSeverty) stops the start instead of paging at every severity', () => {
    const list = fromFile('alerts:\n  sinks:\n    oncall:\n      kind: pagerduty\n      routingKey: R0123456789abcdef0123456789abcd\n      minSeverty: high\n');
    expect(list).toEqual(['alerts.sinks.oncall.minSeverty: unknown setting for a pagerduty sink (did you mean "minSeverity"?)']);
  });

  it('a key far from every known one lists what is known instead of guessing', () => {
    expect(fromFile('log:\n  colour: true\n')[0]).toBe('log.colour: unknown setting (known here: level, format)');
  });

  it('every object in the schema is strict, so a section added later rejects unknown keys with no extra work', () => {
    const loose = [...walkSchema(configSchema)]
      .filter(({ schema }) => defOf(schema).type === 'object')
      .filter(({ schema }) => defOf(schema).catchall === undefined || defOf(defOf(schema).catchall!).type !== 'never')
      .map(({ path }) => path.join('.') || '(top level)');
    expect(loose).toEqual([]);
  });
});

describe('values: durations everywhere, plain words naming the variable and the key', () => {
  it('FLAREWATCH_HTTP_TIMEOUT takes 30s', () => {
    expect(loadConfig({ FLAREWATCH_HTTP_TIMEOUT: '30s' }).cloudflare.timeoutMs).toBe(30_000);
    expect(loadConfig({ FLAREWATCH_HTTP_TIMEOUT: '45000' }).cloudflare.timeoutMs).toBe(45_000);
    expect(problems({ FLAREWATCH_HTTP_TIMEOUT: '10ms' })).toEqual(['FLAREWATCH_HTTP_TIMEOUT (cloudflare.timeoutMs): must be at least 1s, got "10ms"']);
  });

  it('never shows the validator own wording', () => {
    const list = problems({
      FLAREWATCH_AUDIT_SINCE: 'last tuesday', FLAREWATCH_MAX_RETRIES: 'many', FLAREWATCH_AUDIT_PAGE_SIZE: '5000', LOG_LEVEL: 'loud', CLOUDFLARE_BASE_URL: 'nope',
    });
    expect(list).toEqual([
      'CLOUDFLARE_BASE_URL (cloudflare.baseUrl): must be a URL (https://…), got "nope"',
      'FLAREWATCH_MAX_RETRIES (cloudflare.maxRetries): expected a number, got "many"',
      'LOG_LEVEL (log.level): must be one of fatal, error, warn, info, debug, trace, silent, got "loud"',
      'FLAREWATCH_AUDIT_SINCE (audit.since): not a date: "last tuesday" (use e.g. 2025-01-31 or 2025-01-31T12:00:00Z)',
      'FLAREWATCH_AUDIT_PAGE_SIZE (audit.pageSize): must be at most 1000, got "5000"',
    ]);
    for (const line of list) expect(line).not.toMatch(/received|Invalid input|expected date/);
  });

  it('a DATABASE_URL that is no URL is named without echoing it (it holds a password)', () => {
    expect(problems({ DATABASE_URL: 'not a url' })).toEqual(['DATABASE_URL (database.url): not a postgres URL (expected postgres://user:password@host:5432/database)']);
    const secretish = problems({ DATABASE_URL: 'mysql://u:hunter2hunter2@h/db' });
    expect(secretish.join('\n')).not.toContain('hunter2');
    expect(problems({ REDIS_URL: 'localhost:6379' })[0]).toBe('REDIS_URL (redis.url): not a redis URL (expected redis://host:6379)');
  });

  it('a six-field cron expression is refused instead of validating and never firing', () => {
    expect(problems({ FLAREWATCH_SCHEDULE_AUDIT: '*/30 * * * * *' })[0]).toMatch(/^FLAREWATCH_SCHEDULE_AUDIT \(daemon\.auditSchedule\): six fields \(with seconds\) are not supported/);
    expect(problems({ FLAREWATCH_SCHEDULE_AUDIT: 'every minute' })[0]).toMatch(/not a valid schedule: 2 field\(s\), expected five \(minute hour day-of-month month day-of-week\)/);
    expect(loadConfig({ FLAREWATCH_SCHEDULE_AUDIT: '*/2 * * * *' }).daemon.auditSchedule).toBe('*/2 * * * *');
  });
});

describe('a config file with a syntax error', () => {
  const secret = 'cfut_supersecret0123456789abcdef';
  it('YAML: line and column, and never the lines of the file', () => {
    const list = fromFile(`cloudflare:\n  apiToken: ${secret}\n  baseUrl: [unclosed\n`);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatch(/^FLAREWATCH_CONFIG: .*\.yaml is not valid YAML: .* at line \d+, column \d+$/);
    expect(list[0]).not.toContain(secret);
    expect(list[0]).not.toContain('baseUrl');
  });

  it('JSON: line and column, and never the text around the mistake', () => {
    const list = problems({ FLAREWATCH_CONFIG: yamlFile(`{\n  "cloudflare": {\n    "apiToken": "${secret}"\n    "baseUrl": "x"\n  }\n}\n`, 'json') });
    expect(list[0]).toMatch(/is not valid JSON: .* at line 4, column 5$/);
    expect(list[0]).not.toContain(secret);
  });

  it('a file that is a list or a scalar at the top is refused', () => {
    expect(fromFile('- a\n- b\n')[0]).toMatch(/must hold a mapping of settings/);
  });
});

describe('connection URLs', () => {
  it('a socket URL names its host in the query and is accepted', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres:///flarewatch?host=/var/run/postgresql' }).database.url).toBe('postgres:///flarewatch?host=/var/run/postgresql');
    expect(loadConfig({ DATABASE_URL: 'postgresql://u:p@db.internal:5433/x?sslmode=require' }).database.url).toContain('db.internal');
  });
});
