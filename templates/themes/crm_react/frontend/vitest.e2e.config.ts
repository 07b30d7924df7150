import { defineConfig } from 'vitest/config'

// The end-to-end test (e2e/): a real Chromium against a running Django server.
// See e2e/crm.e2e.ts for the environment variables it needs.
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
})
