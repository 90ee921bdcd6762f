import { defineConfig } from 'vitest/config'

// End-to-end: the real local stack (`framefleet up`) and Debian's headless Chromium.
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 120_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    sequence: { concurrent: false },
  },
})
