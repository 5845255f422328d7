import { defineConfig } from 'vitest/config';

/** Integration tests need real services (Temporal dev server, MinIO, loopback HTTP); the rest are fast unit tests. */
const integration = ['test/activities/**/*.test.ts', 'test/workflows/**/*.test.ts', 'test/storage/**/*.test.ts', 'test/cli/**/*.test.ts'];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: [...integration, '**/node_modules/**'],
          testTimeout: 60_000,
          // Loading a GGUF model (test/llm/local-backend.test.ts) took over the default 10 s on a loaded 2-core CI run.
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: integration,
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
