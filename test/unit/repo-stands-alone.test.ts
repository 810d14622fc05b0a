import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

// A clone must be enough: no file may read a path beside or above the repository (the tests once
// opened ../../../shared/… and failed with ENOENT in every fresh clone).
const ROOT = resolve(import.meta.dirname, '../..');
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist', '.flarewatch', 'coverage']);
const TEXT = /\.(ts|mts|mjs|js|cjs|json|ya?ml|md|sh|sql|toml|conf)$|^(Dockerfile|run|image-layout)$/;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return SKIP_DIRS.has(e.name) ? [] : files(path);
    return e.isFile() && TEXT.test(e.name) && statSync(path).size < 2_000_000 ? [path] : [];
  });
}

const inside = (path: string) => path === ROOT || path.startsWith(ROOT + sep);

/** Relative paths that climb (`../`) from a file and land outside the root, from where the file is and, for sources, from where the build puts it. */
export function escapes(file: string, text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|[\s'"`(=])((?:\.\.\/)+[\w.@-][^\s'"`)]*)/g)) {
    const rel = m[1]!;
    const from = [dirname(file)];
    if (relative(ROOT, file).startsWith(`src${sep}`)) from.push(dirname(join(ROOT, 'dist', relative(ROOT, file))));
    if (from.every((dir) => !inside(resolve(dir, rel)))) found.push(rel);
  }
  for (const m of text.matchAll(/\/work\/(?:shared|main|wt)\b[^\s'"`]*/g)) found.push(m[0]);
  return found;
}

describe('the repository stands alone', () => {
  it('no file reads a path outside the repository', () => {
    // This file is skipped: its own examples below climb out on purpose.
    const offenders = files(ROOT).filter((f) => f !== import.meta.filename).flatMap((file) => escapes(file, readFileSync(file, 'utf8')).map((p) => `${relative(ROOT, file)}: ${p}`));
    expect(offenders).toEqual([]);
  });

  it('the check finds an escape when there is one', () => {
    const helper = join(ROOT, 'test/simulator/helpers.ts');
    expect(escapes(helper, "new URL('../../../shared/cloudflare-api/openapi-subset.json', import.meta.url)")).toEqual(['../../../shared/cloudflare-api/openapi-subset.json']);
    expect(escapes(helper, "new URL('../fixtures/cloudflare-api/openapi-subset.json', import.meta.url)")).toEqual([]);
    // The build runs src/util/x.ts from dist/src/util/x.js, where ../../../package.json is the root's.
    expect(escapes(join(ROOT, 'src/util/version.ts'), "new URL('../../../package.json', import.meta.url)")).toEqual([]);
    expect(escapes(join(ROOT, 'src/util/version.ts'), "new URL('../../../../x.json', import.meta.url)")).toEqual(['../../../../x.json']);
  });
});
