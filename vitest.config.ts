import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "packages/*/test/**/*.test.ts",
      "examples/*/test/**/*.test.ts",
      // The shop keeps each service's tests beside it (services/<name>/), as an app would.
      "examples/*/src/**/*.test.ts",
    ],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: keep parallelism modest so real-server tests do not starve each other.
    maxWorkers: 2,
    env: { FLOTILLA_LOG_LEVEL: "silent" },
  },
});
