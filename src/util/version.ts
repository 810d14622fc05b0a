import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// src/util/ from sources, dist/src/util/ when compiled: package.json sits at the package root.
const PACKAGE_JSON = [new URL('../../package.json', import.meta.url), new URL('../../../package.json', import.meta.url)]
  .map((u) => fileURLToPath(u))
  .find((f) => existsSync(f));

/** flarewatch's version, from package.json. */
export function version(): string {
  if (!PACKAGE_JSON) return 'unknown';
  return (JSON.parse(readFileSync(PACKAGE_JSON, 'utf8')) as { version?: string }).version ?? 'unknown';
}
