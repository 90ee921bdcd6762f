import { defineConfig } from 'vitest/config'

// Unit tests: pure logic only (no DOM, no network).
export default defineConfig({
  test: { include: ['src/**/*.test.ts'], environment: 'node' },
})
