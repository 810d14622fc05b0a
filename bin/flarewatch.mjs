#!/usr/bin/env node
// Runs the compiled CLI when built (the Docker image), else the TypeScript sources through tsx.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// `--version` needs nothing of the app: answered before loading it (from source, loading the
// whole CLI through tsx takes seconds).
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
  process.exit(0);
}

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
