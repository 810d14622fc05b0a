import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './migrations',
  // Only `drizzle-kit generate` is used (it needs no database); migrations are applied by `flarewatch migrate`.
});
