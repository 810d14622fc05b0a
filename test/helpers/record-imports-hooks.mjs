// The resolve hook of record-imports.mjs (runs on the loader thread).
import { appendFileSync } from 'node:fs';

let file;

export function initialize(data) {
  file = data?.file;
  if (!file) throw new Error('record-imports: RECORD_IMPORTS_TO names no file');
}

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(file, `${result.url}\n`);
  return result;
}
