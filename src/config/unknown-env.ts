import { didYouMean } from '../util/did-you-mean.js';
import { ENV_KEYS, SECRET_KEYS } from './env-keys.js';

// Variables that are not settings but are read by name: the config file's path, and the test
// setup's fixed PostgreSQL port.
const OTHER_NAMES = ['FLAREWATCH_CONFIG', 'FLAREWATCH_TEST_PG_PORT'];

/** Every FLAREWATCH_* name flarewatch reads. */
export function knownEnvNames(): string[] {
  return [...Object.keys(ENV_KEYS), ...SECRET_KEYS.map((k) => `${k}_FILE`), ...OTHER_NAMES];
}

/**
 * A misspelt variable (FLAREWATCH_AUDIT_OVERLAPP) would otherwise be ignored without a word and
 * its default used: one warning line per unknown FLAREWATCH_* name, with the closest known one.
 */
export function unknownEnvWarnings(env: NodeJS.ProcessEnv = process.env): string[] {
  const known = knownEnvNames();
  return Object.keys(env)
    .filter((name) => name.startsWith('FLAREWATCH_') && !known.includes(name))
    .sort()
    .map((name) => `warning: ${name} is not a flarewatch setting${didYouMean(name, known)}; it is ignored (settings: README, Configuration)`);
}
