#!/usr/bin/env node
// Runs the compiled CLI when built (the Docker image), else the TypeScript sources through tsx.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = fileURLToPath(new URL('../dist/src/cli.js', import.meta.url));
if (existsSync(compiled)) {
  const { main } = await import(compiled);
  await main(process.argv);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../src/cli.ts');
  await main(process.argv);
}
