// `node --import ./test/helpers/record-imports.mjs bin/flarewatch.mjs …`: every module the CLI
// resolves (ESM imports, and the CommonJS packages they import) is appended to the file named by
// RECORD_IMPORTS_TO, one URL a line. Test-only: tells which modules a command loaded.
import { register } from 'node:module';

register('./record-imports-hooks.mjs', import.meta.url, { data: { file: process.env.RECORD_IMPORTS_TO } });
