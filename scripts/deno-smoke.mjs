// Runs test/deno/smoke.ts with the Deno binary from the `deno` npm package, offline: modules come
// from node_modules, nothing is downloaded. Exits with Deno's exit code.
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const result = spawnSync("npx", ["--no-install", "deno", "run", "--no-remote", "--node-modules-dir=manual", "--no-config", "--sloppy-imports", "--quiet", "test/deno/smoke.ts"], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1" }
})
process.exit(result.status ?? 1)
