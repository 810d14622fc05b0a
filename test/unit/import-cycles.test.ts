import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Modules that import each other load in an order nobody chose: one of them sees the other's
// exports still undefined (a `const` read before it is set throws, a re-export is undefined).
// Config must be the bottom layer: feature modules import it, never the reverse (it once sat in
// a 59-file loop with the sinks, rules, findings, intents and sync modules).
//
// Two graphs of static `import … from` / `export … from` between src files (`await import()` is
// left out: it runs after both modules have loaded):
// - runtime: without `import type` / `export type` and imports whose every name is marked `type`
//   (erased when compiled, so they cannot change load order). No cycle at all is allowed. A plain
//   `import { T }` of a type alone is counted, although TypeScript erases it: mark it `type`.
// - all imports, type-only included: the layering. The old config loop was one of these (every
//   edge back into config.ts was `import type { Config }`), harmless at run time only until
//   someone turns one of them into a value import. Cycles here fail unless ALLOWED names them.
//   Types two modules share live in a leaf module both import (sync/walk.ts, sync/snapshot-spec.ts,
//   ops/metric-set.ts, simulator/world-view.ts), not in one of the two.
const ROOT = resolve(import.meta.dirname, '../..');
const SRC = join(ROOT, 'src');

interface Allowed {
  why: string;
  /** A cycle is allowed when every one of its files matches. */
  member: (file: string) => boolean;
}

/** Known cycles, each with why it stays. None at present: add one only with its reason and a plan to break it. */
const ALLOWED: Allowed[] = [];

/** The config layer: src/config.ts and src/config/, which may import only each other and src/util/. */
const isConfig = (f: string) => f === 'src/config.ts' || f.startsWith('src/config/');
const belowConfig = (f: string) => isConfig(f) || f.startsWith('src/util/');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

function typeOnly(node: ts.ImportDeclaration | ts.ExportDeclaration): boolean {
  if (ts.isExportDeclaration(node)) {
    if (node.isTypeOnly) return true;
    const named = node.exportClause;
    return !!named && ts.isNamedExports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
  }
  const clause = node.importClause;
  if (!clause) return false; // `import './x.js'`: loaded for its effects
  if (clause.isTypeOnly) return true;
  const named = clause.namedBindings;
  return !clause.name && !!named && ts.isNamedImports(named) && named.elements.length > 0 && named.elements.every((e) => e.isTypeOnly);
}

function resolveSpecifier(from: string, specifier: string): string | undefined {
  if (!specifier.startsWith('.')) return undefined;
  const base = resolve(dirname(from), specifier);
  const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
  return candidates.find((c) => c.startsWith(SRC) && existsSync(c));
}

/** The src files `file` imports, each with whether the import is type-only. */
function importsOf(file: string, text: string): Array<{ target: string; typeOnly: boolean }> {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS);
  const found: Array<{ target: string; typeOnly: boolean }> = [];
  for (const node of source.statements) {
    if (!ts.isImportDeclaration(node) && !ts.isExportDeclaration(node)) continue;
    if (!node.moduleSpecifier || !ts.isStringLiteral(node.moduleSpecifier)) continue;
    const target = resolveSpecifier(file, node.moduleSpecifier.text);
    if (target) found.push({ target, typeOnly: typeOnly(node) });
  }
  return found;
}

/** file -> the src files it imports (`types`: type-only imports too). */
export function srcImports(file: string, text: string, { types }: { types: boolean }): string[] {
  return importsOf(file, text).filter((i) => types || !i.typeOnly).map((i) => i.target);
}

/** Strongly connected components with more than one file, or a file importing itself (Tarjan). */
export function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || graph.get(v)?.includes(v)) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/** One path round a component, as `a -> b -> … -> a`, so the report shows an edge to cut. */
function loopThrough(component: string[], graph: Map<string, string[]>): string {
  const members = new Set(component);
  const start = component[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
        return [...path, start].join(' -> ');
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return start;
}

let parsed: Map<string, Array<{ target: string; typeOnly: boolean }>> | undefined;

/** Every src file's imports, read once for all the checks below. */
function srcGraph(types: boolean): Map<string, string[]> {
  parsed ??= new Map(sources(SRC).map((file) => [relative(ROOT, file), importsOf(file, readFileSync(file, 'utf8'))]));
  return new Map([...parsed].map(([file, imports]) => [file, imports.filter((i) => types || !i.typeOnly).map((i) => relative(ROOT, i.target))]));
}

const report = (found: string[][], graph: Map<string, string[]>) => found.map((c) => `${c.length} files: ${loopThrough(c, graph)}\n    ${c.join('\n    ')}`);

describe('import cycles', () => {
  it('no src files load each other at run time', () => {
    const graph = srcGraph(false);
    const found = report(cycles(graph), graph);
    expect(found, `runtime import cycles:\n${found.join('\n')}`).toEqual([]);
  });

  it('no src files import each other, type-only imports included, beyond the allowed cycles', () => {
    const graph = srcGraph(true);
    const found = report(cycles(graph).filter((c) => !ALLOWED.some((a) => c.every(a.member))), graph);
    expect(found, `import cycles:\n${found.join('\n')}`).toEqual([]);
  });

  it('config is the bottom layer: it imports only config and util modules', () => {
    const graph = srcGraph(true);
    const upward = [...graph].filter(([f]) => belowConfig(f)).flatMap(([f, targets]) => targets.filter((t) => !belowConfig(t)).map((t) => `${f} -> ${t}`));
    expect(upward).toEqual([]);
  });

  it('reads type-marked, plain and re-exporting imports, and finds a loop', () => {
    const a = join(SRC, 'config.ts');
    const text = [
      "import type { A } from './alerts/content.js';",
      "import { type B, type C } from './alerts/escape.js';",
      "import { D } from './rules/types.js';",
      "export { E } from './log.js';",
      "export type { F } from './context.js';",
      "import x from 'zod';",
      "const later = () => import('./cli.js');",
    ].join('\n');
    const rel = (files: string[]) => files.map((t) => relative(ROOT, t));
    expect(rel(srcImports(a, text, { types: false }))).toEqual(['src/rules/types.ts', 'src/log.ts']);
    expect(rel(srcImports(a, text, { types: true }))).toEqual(['src/alerts/content.ts', 'src/alerts/escape.ts', 'src/rules/types.ts', 'src/log.ts', 'src/context.ts']);
    const graph = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a', 'd']],
      ['d', []],
      ['e', ['e']],
    ]);
    expect(cycles(graph)).toEqual([['a', 'b', 'c'], ['e']]);
    expect(loopThrough(['a', 'b', 'c'], graph)).toBe('a -> b -> c -> a');
  });
});
