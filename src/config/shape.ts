// Reading a zod schema's structure, for "did you mean" over sink settings and for the test that
// every section of the configuration is a strict object.
import type { z } from 'zod';

type Def = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; in?: z.ZodType; out?: z.ZodType; schema?: z.ZodType; options?: z.ZodType[]; valueType?: z.ZodType; element?: z.ZodType; catchall?: z.ZodType };
export const defOf = (s: z.ZodType): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** The object schema under wrappers (default, optional, pipe/transform, refine), if there is one. */
export function objectOf(schema: z.ZodType): z.ZodType | undefined {
  for (let s: z.ZodType | undefined = schema, depth = 0; s && depth < 20; depth++) {
    const def = defOf(s);
    if (def.type === 'object') return s;
    s = def.innerType ?? def.in ?? def.schema;
  }
  return undefined;
}

/** The keys an object schema knows (empty when it is no object). */
export const shapeKeys = (schema: z.ZodType): string[] => Object.keys(defOf(objectOf(schema) ?? schema).shape ?? {});

/** Every schema nested in `schema` (depth first), with the path to it, wrappers included. */
export function* walkSchema(schema: z.ZodType, path: string[] = [], seen = new Set<z.ZodType>()): Generator<{ path: string[]; schema: z.ZodType }> {
  if (seen.has(schema)) return;
  seen.add(schema);
  yield { path, schema };
  const def = defOf(schema);
  for (const [key, child] of Object.entries(def.shape ?? {})) yield* walkSchema(child, [...path, key], seen);
  for (const child of [def.innerType, def.in, def.out, def.schema, def.valueType, def.element, ...(def.options ?? [])]) {
    if (child) yield* walkSchema(child, path, seen);
  }
}
