import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          environment: "node",
          include: ["test/core/**/*.test.ts", "test/adapters/**/*.test.ts", "test/sandbox/**/*.test.ts"],
          testTimeout: 30_000
        }
      }
    ]
  }
})
