import { readFileSync } from 'node:fs';
import { ajv, convertNullable } from './openapi-ajv.js';

/** Validators over test/fixtures/cloudflare-api/openapi-iam.json (request bodies and answers of every method). */
type Content = { content?: Record<string, { schema: unknown }> };
interface Operation { requestBody?: Content; responses: Record<string, Content> }
const spec = JSON.parse(readFileSync(new URL('../fixtures/cloudflare-api/openapi-iam.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
};

ajv.addSchema({ $id: 'iam', components: convertNullable(spec.components) }, 'iam');

function compile(schema: unknown) {
  const validate = ajv.compile(JSON.parse(JSON.stringify(convertNullable(schema)).replaceAll('"#/components/', '"iam#/components/')) as object);
  return (body: unknown) => (validate(body) ? [] : validate.errors ?? []);
}

/** The spec's schema for a request body (`'request'`) or an answer (`'200'`, `'4XX'`) of one operation. */
export function iamValidator(method: string, path: string, what: 'request' | '200' | '4XX') {
  const op = spec.paths[path]?.[method.toLowerCase()];
  const content = what === 'request' ? op?.requestBody : op?.responses[what];
  const schema = content?.content?.['application/json']?.schema;
  if (!schema) throw new Error(`no ${what} schema for ${method} ${path}`);
  return compile(schema);
}
