import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { configFiles, configProblems as problems } from '../helpers/config.js';

// No value under a setting that can hold a secret is printed in a configuration error, whatever
// shape it was given in: only the kind of value. URLs with credentials are refused where they
// cannot work (the API base URL) and masked everywhere else. YAML warnings are errors.

const { file } = configFiles('flarewatch-secrets-');
let n = 0;
const fromFile = (text: string) => problems({ FLAREWATCH_CONFIG: file(`s${n++}.yaml`, text) }).join('\n');
const TOKEN = 'cfut_Zq8vX2mN4pR7tY1wK3sL9dF6gH0jB5cE';

describe('secrets in configuration errors', () => {
  it('a token given where a credential section is expected is not echoed', () => {
    const text = fromFile(`cloudflare:\n  credentials:\n    - ${TOKEN}\n`);
    expect(text).toContain('cloudflare.credentials.0: expected a section (key: value pairs), got text');
    expect(text).not.toContain('cfut_');
  });

  it('credentials given as a map: not even the first characters of a token', () => {
    const text = fromFile(`cloudflare:\n  credentials:\n    main:\n      apiToken: ${TOKEN}\n`);
    expect(text).toMatch(/cloudflare\.credentials.*got a section/);
    expect(text).not.toContain(TOKEN.slice(0, 8));
  });

  it('a database section given as a URL string is not echoed, nor its password', () => {
    const text = fromFile('database: postgres://flarewatch:hunter2secret@db.internal/fw\n');
    expect(text).toContain('database: expected a section (key: value pairs), got text');
    expect(text).not.toContain('hunter2secret');
  });

  it("a sink's routing key given in the wrong shape is not echoed", () => {
    const text = fromFile('alerts:\n  sinks:\n    oncall:\n      kind: pagerduty\n      routingKey: [R0123456789abcdef0123456789abcd]\n');
    expect(text).toMatch(/alerts\.sinks\.oncall\.routingKey/);
    expect(text).not.toContain('R0123456789abcdef');
    const whole = fromFile('alerts:\n  sinks: R0123456789abcdef0123456789abcd\n');
    expect(whole).not.toContain('R0123456789abcdef');
  });

  it('a URL with credentials in CLOUDFLARE_BASE_URL is refused without echoing it', () => {
    const text = problems({ CLOUDFLARE_BASE_URL: 'https://ops:pa55word99@api.cloudflare.com/client/v4' }).join('\n');
    expect(text).toBe('CLOUDFLARE_BASE_URL (cloudflare.baseUrl): must not carry credentials (user:password@): flarewatch sends the token in a header; remove them from the URL');
    expect(() => loadConfig({ CLOUDFLARE_BASE_URL: 'https://api.cloudflare.com/client/v4' })).not.toThrow();
  });

  it('a URL with credentials elsewhere in an error is masked', () => {
    const text = fromFile('sync:\n  streams: 3\naudit:\n  overlap: "postgres://u:leakypass@h/db"\n');
    expect(text).not.toContain('leakypass');
  });
});

describe('YAML warnings are errors', () => {
  it('a tag on a secret stops the start, naming line and column, never the tag or the value', () => {
    const text = fromFile(`cloudflare:\n  apiToken: !${TOKEN.slice(0, 12)} ${TOKEN.slice(12)}\n`);
    expect(text).toMatch(/is not valid YAML: warning: a YAML tag \(!…\) flarewatch does not know; quote a value that starts with ! at line 2, column \d+$/);
    expect(text).not.toContain(TOKEN.slice(0, 12));
    expect(text).not.toContain(TOKEN.slice(12));
  });
});
