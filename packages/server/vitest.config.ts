import { defineConfig } from 'vitest/config';

// Two tiers: `unit` (pure code, no database, no process, no browser: well under a minute; run it
// alone with `npm run test:unit`) and `integration` (everything else: HTTP in process, SQLite and
// PostgreSQL, real `payrail serve` processes, Chromium). `npm test` runs both.
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: ['test/unit/**'],
          globalSetup: ['test/support/global-setup.ts'],
        },
      },
    ],
  },
});
