import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'postgresql',
  // Every feature's tables; add yours here when it gets its own tables.ts.
  schema: [
    './src/db/tables.ts',
    './src/export/tables.ts',
    './src/retention/tables.ts',
    './src/integrity/tables.ts',
  ],
  out: './drizzle',
});
