import { readFileSync } from 'node:fs';
import type { IssuedCredential, Simulator } from '../../src/simulator/index.js';
import { ajv, convertNullable } from './openapi-ajv.js';

/** Validator over openapi-subset.json (test/fixtures/cloudflare-api): `$ref`s resolve inside the document; OpenAPI 3.0 `nullable` becomes a JSON Schema type union. */
const specPath = new URL('../fixtures/cloudflare-api/openapi-subset.json', import.meta.url);
export const spec = JSON.parse(readFileSync(specPath, 'utf8')) as {
  paths: Record<string, { get: { responses: Record<string, { content?: Record<string, { schema: unknown }> }> } }>;
  components: { schemas: Record<string, unknown> };
};

type Spec = typeof spec;

/** Validators for the GET answers of one OpenAPI document, registered under `id`. */
export function validatorsOf(doc: Spec, id: string) {
  ajv.addSchema({ $id: id, components: convertNullable(doc.components) }, id);
  return (path: string, status: '200' | '4XX') => {
    const schema = doc.paths[path]?.get.responses[status]?.content?.['application/json']?.schema;
    if (!schema) throw new Error(`no schema for ${path} ${status}`);
    const rewritten = JSON.parse(JSON.stringify(convertNullable(schema)).replaceAll('"#/components/', `"${id}#/components/`));
    const validate = ajv.compile(rewritten as object);
    return (body: unknown) => (validate(body) ? [] : validate.errors ?? []);
  };
}

export const validatorFor = validatorsOf(spec, 'spec');

export const bearer = (sim: Simulator) => ({ authorization: `Bearer ${sim.credentials.apiToken}` });

/** The headers that authenticate with an issued credential. */
export const auth = (c: IssuedCredential): Record<string, string> =>
  c.kind === 'global-key' ? { 'x-auth-email': c.email, 'x-auth-key': c.apiKey } : { authorization: `Bearer ${c.value}` };

export async function get(sim: Simulator, path: string, headers: Record<string, string> = bearer(sim)) {
  const res = await fetch(sim.url + path, { headers });
  const text = await res.text();
  let body: any;
  try { body = JSON.parse(text); } catch { body = undefined; }
  return { status: res.status, headers: res.headers, text, body };
}
