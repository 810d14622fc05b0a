import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, secretValues } from '../../src/config.js';
import { configFiles, configProblems as problems } from '../helpers/config.js';

const { dir, file } = configFiles('flarewatch-config-');

describe('loadConfig', () => {
  it('has defaults for everything but secrets', () => {
    const c = loadConfig({});
    expect([c.cloudflare.apiToken, c.cloudflare.apiKey, c.cloudflare.email]).toEqual([undefined, undefined, undefined]);
    expect(c.cloudflare).toMatchObject({ baseUrl: 'https://api.cloudflare.com/client/v4', maxRetries: 4, malformedRetries: 3, timeoutMs: 60_000, accounts: [] });
    expect(c.audit).toMatchObject({ overlap: 600_000, lag: 120_000, pageSize: 1000 });
    expect(c.sync).toMatchObject({ lastSeenResolution: 86_400_000, resumeMaxAge: 900_000, streams: [] });
    expect(c.log).toEqual({ level: 'info', format: 'auto' });
    expect(c.database.url).toBeUndefined();
  });

  it('reads env vars: numbers, durations, lists, empty = unset', () => {
    const c = loadConfig({ FLAREWATCH_MAX_RETRIES: '1', FLAREWATCH_AUDIT_OVERLAP: '1h30m', FLAREWATCH_ACCOUNTS: ' a, b ,,c', CLOUDFLARE_API_TOKEN: '', LOG_LEVEL: 'debug' });
    expect(c.cloudflare.maxRetries).toBe(1);
    expect(c.audit.overlap).toBe(5_400_000);
    expect(c.cloudflare.accounts).toEqual(['a', 'b', 'c']);
    expect(c.cloudflare.apiToken).toBeUndefined();
    expect(c.log.level).toBe('debug');
  });

  it('an invalid value names the env var (and every bad one at once)', () => {
    const list = problems({ FLAREWATCH_MAX_RETRIES: 'many', FLAREWATCH_AUDIT_OVERLAP: 'ten minutes', LOG_LEVEL: 'loud' });
    expect(list).toHaveLength(3);
    expect(list.find((p) => p.startsWith('FLAREWATCH_MAX_RETRIES (cloudflare.maxRetries)'))).toBeDefined();
    expect(list.find((p) => p.startsWith('FLAREWATCH_AUDIT_OVERLAP (audit.overlap)'))).toContain('not a duration: "ten minutes"');
    expect(list.find((p) => p.startsWith('LOG_LEVEL'))).toBeDefined();
    expect(problems({ FLAREWATCH_MAX_RETRIES: '99' })[0]).toMatch(/^FLAREWATCH_MAX_RETRIES/);
    expect(problems({ CLOUDFLARE_BASE_URL: 'not a url' })[0]).toMatch(/^CLOUDFLARE_BASE_URL/);
  });

  it('CLOUDFLARE_API_KEY without CLOUDFLARE_EMAIL is refused', () => {
    expect(problems({ CLOUDFLARE_API_KEY: 'k'.repeat(37) })).toEqual(['CLOUDFLARE_EMAIL: required with CLOUDFLARE_API_KEY']);
    expect(loadConfig({ CLOUDFLARE_API_KEY: 'k'.repeat(37), CLOUDFLARE_EMAIL: 'me@example.com' }).cloudflare.email).toBe('me@example.com');
  });

  it('reads a JSON config file named by FLAREWATCH_CONFIG; env wins over it', () => {
    const path = file('c.json', JSON.stringify({ cloudflare: { maxRetries: 7, accounts: ['x'] }, audit: { overlap: '5m' } }));
    const c = loadConfig({ FLAREWATCH_CONFIG: path });
    expect([c.cloudflare.maxRetries, c.cloudflare.accounts, c.audit.overlap, c.cloudflare.malformedRetries]).toEqual([7, ['x'], 300_000, 3]);
    expect(loadConfig({ FLAREWATCH_CONFIG: path, FLAREWATCH_MAX_RETRIES: '2' }).cloudflare.maxRetries).toBe(2);
  });

  it('reads a YAML config file; a bad file or value names the file or the key', () => {
    const path = file('c.yaml', 'cloudflare:\n  maxRetries: 5\nsync:\n  streams: [user-tokens, members]\n');
    const c = loadConfig({ FLAREWATCH_CONFIG: path });
    expect([c.cloudflare.maxRetries, c.sync.streams]).toEqual([5, ['user-tokens', 'members']]);
    expect(problems({ FLAREWATCH_CONFIG: file('bad.json', '{ nope') })[0]).toMatch(/^FLAREWATCH_CONFIG: .*bad\.json is not valid JSON: .* at line 1, column 3$/);
    expect(problems({ FLAREWATCH_CONFIG: join(dir, 'missing.yaml') })[0]).toMatch(/^FLAREWATCH_CONFIG: cannot read/);
    expect(problems({ FLAREWATCH_CONFIG: file('v.yaml', 'cloudflare:\n  maxRetries: lots\n') })[0]).toMatch(/^FLAREWATCH_MAX_RETRIES \(cloudflare\.maxRetries\)/);
  });

  it('reads a secret from NAME_FILE (trimmed), which wins over the variable; an unreadable file is named', () => {
    const path = file('token', 'file-token-value-0123456789\n');
    expect(loadConfig({ CLOUDFLARE_API_TOKEN_FILE: path }).cloudflare.apiToken).toBe('file-token-value-0123456789');
    expect(loadConfig({ CLOUDFLARE_API_TOKEN_FILE: path, CLOUDFLARE_API_TOKEN: 'env' }).cloudflare.apiToken).toBe('file-token-value-0123456789');
    expect(problems({ CLOUDFLARE_API_KEY_FILE: join(dir, 'nope') })[0]).toMatch(/^CLOUDFLARE_API_KEY_FILE: cannot read/);
    // Only secrets have a _FILE form.
    expect(loadConfig({ LOG_LEVEL_FILE: path }).log.level).toBe('info');
  });

  it('secretValues lists the token, the key and the database password', () => {
    const c = loadConfig({ CLOUDFLARE_API_TOKEN: 'tok-123456', CLOUDFLARE_EMAIL: 'a@b.co', CLOUDFLARE_API_KEY: 'key-123456', DATABASE_URL: 'postgres://u:p%40ssword@h/db' });
    expect(secretValues(c).sort()).toEqual(['key-123456', 'p@ssword', 'tok-123456']);
  });
});
