import { describe, expect, it } from 'vitest';
import { cliConfig } from '../../src/commands/cli-config.js';
import { ConfigError } from '../../src/config.js';
import { cronFieldProblem } from '../../src/config/cron-fields.js';
import { unknownEnvWarnings } from '../../src/config/unknown-env.js';
import { configFiles, configProblems } from '../helpers/config.js';

const { file } = configFiles('flarewatch-first-hour-');

function cliProblems(env: NodeJS.ProcessEnv): string[] {
  try {
    cliConfig({}, env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

describe('a schedule out of range names its field', () => {
  it('61 in the minute field is out of range 0-59 (it has five fields)', () => {
    expect(configProblems({ FLAREWATCH_SCHEDULE_AUDIT: '61 * * * *' })).toEqual([
      'FLAREWATCH_SCHEDULE_AUDIT (daemon.auditSchedule): not a valid schedule: minute field: 61 is out of range 0-59',
    ]);
  });

  it('each field with its own range, names and steps', () => {
    expect(cronFieldProblem('0 24 * * *')).toBe('hour field: 24 is out of range 0-23');
    expect(cronFieldProblem('0 0 0 * *')).toBe('day-of-month field: 0 is out of range 1-31');
    expect(cronFieldProblem('0 0 * 1-13 *')).toBe('month field: 13 is out of range 1-12');
    expect(cronFieldProblem('0 0 * * 8')).toBe('day-of-week field: 8 is out of range 0-7');
    expect(cronFieldProblem('*/0 * * * *')).toBe('minute field: step "/0" must be a whole number above 0');
    expect(cronFieldProblem('0 0 * * frx')).toMatch(/^day-of-week field: "frx" is not a number or a name/);
    expect(cronFieldProblem('0 0 * *')).toMatch(/^4 field\(s\), expected five/);
    for (const ok of ['*/5 * * * *', '0 9-17/2 * * mon-fri', '0 0 1,15 jan,jul *', '30 2 * * 0,7']) expect(cronFieldProblem(ok)).toBeUndefined();
  });
});

describe('several mistakes in one config are reported at once', () => {
  it('schema problems, an unknown rule id and a missing CLOUDFLARE_EMAIL in one report', () => {
    const config = file('several.yaml', [
      'audit:', '  lag: soon', 'log:', '  level: loud', 'rules:', '  token-no-expiry:', '    enabled: false', '  member-no-2faa:', '    enabled: false', '',
    ].join('\n'));
    const problems = cliProblems({ FLAREWATCH_CONFIG: config, FLAREWATCH_SCHEDULE_AUDIT: '61 * * * *', CLOUDFLARE_API_KEY: 'k'.repeat(37) });
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^FLAREWATCH_AUDIT_LAG \(audit\.lag\): /),
      expect.stringMatching(/^LOG_LEVEL \(log\.level\): must be one of /),
      expect.stringMatching(/^FLAREWATCH_SCHEDULE_AUDIT \(daemon\.auditSchedule\): not a valid schedule: minute field/),
      'CLOUDFLARE_EMAIL: required with CLOUDFLARE_API_KEY',
      'rules.member-no-2faa: unknown rule (did you mean "member-no-2fa"?) (see npx flarewatch rules)',
    ]));
    expect(problems).toHaveLength(5);
  });

  it('an unknown rule id alone is still refused', () => {
    expect(cliProblems({ FLAREWATCH_CONFIG: file('rule.yaml', 'rules:\n  token-no-expiryy:\n    enabled: false\n') })).toEqual([
      'rules.token-no-expiryy: unknown rule (did you mean "token-no-expiry"?) (see npx flarewatch rules)',
    ]);
  });
});

describe('an unknown FLAREWATCH_* variable is warned about, with "did you mean"', () => {
  it('a typo gets the closest setting; known names, *_FILE secrets and other variables pass', () => {
    expect(unknownEnvWarnings({ FLAREWATCH_AUDIT_OVERLAPP: '1h', FLAREWATCH_AUDIT_OVERLAP: '1h', FLAREWATCH_SMTP_PASSWORD_FILE: '/run/s', FLAREWATCH_CONFIG: 'x.yaml', HOME: '/root' })).toEqual([
      'warning: FLAREWATCH_AUDIT_OVERLAPP is not a flarewatch setting (did you mean "FLAREWATCH_AUDIT_OVERLAP"?); it is ignored (settings: README, Configuration)',
    ]);
    expect(unknownEnvWarnings({ FLAREWATCH_ZZZZZZZZZZZZZZZZZZZZZZZZZ: '1' })[0]).toBe('warning: FLAREWATCH_ZZZZZZZZZZZZZZZZZZZZZZZZZ is not a flarewatch setting; it is ignored (settings: README, Configuration)');
  });
});
