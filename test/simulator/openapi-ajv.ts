import AjvModule from 'ajv';
import addFormats from 'ajv-formats';

// One ajv for every OpenAPI fixture the simulator is checked against (test/fixtures/cloudflare-api).

/** OpenAPI 3.0 `nullable` becomes a JSON Schema type union (and a null member of an enum). */
export function convertNullable(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(convertNullable);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = convertNullable(v);
  if (out.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    delete out.nullable;
  }
  return out;
}

// ajv and ajv-formats are CommonJS; under NodeNext their default export is the module object.
const Ajv = (AjvModule as unknown as { default: typeof AjvModule }).default ?? AjvModule;
export const ajv = new (Ajv as unknown as new (o: object) => import('ajv').default)({ strict: false, allErrors: true });
const formats = (addFormats as unknown as { default?: (a: unknown) => void }).default ?? (addFormats as unknown as (a: unknown) => void);
formats(ajv);
