import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { simulatorOptionsSchema } from '../../src/simulator/index.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
let child: ChildProcess | undefined;
afterEach(() => { child?.kill('SIGTERM'); child = undefined; });

/** Starts `flarewatch simulator` and resolves with its first `lines` lines of output. */
function startCli(options: unknown, lines: number): Promise<string[]> {
  child = spawn(process.execPath, ['--import', 'tsx/esm', 'src/cli.ts', 'simulator', '--port', '0', '--seed', '3', '--options', JSON.stringify(options)],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '', err = '';
    child!.stdout!.on('data', (d: Buffer) => {
      out += String(d);
      const got = out.split('\n').filter(Boolean);
      if (got.length >= lines) resolve(got);
    });
    child!.stderr!.on('data', (d: Buffer) => { err += String(d); });
    child!.once('exit', (code) => reject(new Error(`simulator exited ${code}: ${err}`)));
  });
}

describe('flarewatch simulator --options', () => {
  it('issues extraCredentials at start and prints each on a line that works as printed', async () => {
    const out = await startCli({ size: { users: 2 }, audit: { retentionMs: 86_400_000 }, extraCredentials: [
      { kind: 'user-token', user: 1, prefix: true }, { kind: 'account-token', account: 0, prefix: true }, { kind: 'global-key', user: 1 }] }, 5);
    const url = /listening at (\S+)/.exec(out[0]!)![1]!;
    const value = (kind: string, key: string) => new RegExp(`${key}=(\\S+)`).exec(out.find((l) => l.trim().startsWith(kind))!)![1]!;
    const userToken = value('user-token', 'CLOUDFLARE_API_TOKEN');
    const accountToken = value('account-token', 'CLOUDFLARE_API_TOKEN');
    expect([userToken.slice(0, 5), accountToken.slice(0, 5)]).toEqual(['cfut_', 'cfat_']);
    const call = async (path: string, headers: Record<string, string>) => (await fetch(url + path, { headers })).status;
    expect(await call('/user', { authorization: `Bearer ${userToken}` })).toBe(200);
    expect(await call('/user', { authorization: `Bearer ${accountToken}` })).toBe(403);
    expect(await call(`/accounts/${value('account-token', 'account')}/tokens/verify`, { authorization: `Bearer ${accountToken}` })).toBe(200);
    expect(await call('/user', { 'x-auth-email': value('global-key', 'CLOUDFLARE_EMAIL'), 'x-auth-key': value('global-key', 'CLOUDFLARE_API_KEY') })).toBe(200);
  });

  it('the options schema takes the new knobs and says which one is wrong', () => {
    const parsed = simulatorOptionsSchema.parse({
      size: { users: '3', extraUserTokens: 2 }, audit: { ageOutPerRequest: 2 },
      faults: [{ route: 'GET /accounts/:account_id/members', kind: 'shift-listing', replace: true, match: { page: '*' } },
        { route: '*', kind: 'error', status: 410, code: 1004, message: 'cursor expired' }],
      extraCredentials: [{ kind: 'account-token', account: 'abc' }],
    });
    expect(parsed.size?.users).toBe(3);
    expect(parsed.faults?.[1]).toMatchObject({ kind: 'error', status: 410, code: 1004 });
    const problem = (o: unknown) => simulatorOptionsSchema.safeParse(o).error?.issues.map((i) => i.path.join('.'));
    expect(problem({ extraCredentials: [{ kind: 'account-token' }] })).toEqual(['extraCredentials.0.account']);
    expect(problem({ extraCredentials: [{ kind: 'user-token', expiresOn: 'soon' }] })).toEqual(['extraCredentials.0.expiresOn']);
    expect(problem({ audit: { retentionMs: 0 } })).toEqual(['audit.retentionMs']);
    expect(problem({ faults: [{ route: '*', kind: 'cut-bodies' }] })).toEqual(['faults.0.kind']);
  });
});
