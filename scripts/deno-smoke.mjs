// Runs test/deno/smoke.ts with the Deno binary of the `deno` npm package, offline: modules come
// from node_modules as they are (no npm or JSR download, no remote import, no update check), and
// the core is type-checked by Deno too. Exits with Deno's exit code.
//   --node-modules-dir=manual  resolve `effect` from ./node_modules, never install
//   --sloppy-imports            map the core's `./X.js` imports to the `.ts` sources
//   --no-config                 no deno.json: package.json alone names the dependencies
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))
const flags = [
  "--no-remote",
  "--cached-only",
  "--node-modules-dir=manual",
  "--no-config",
  "--sloppy-imports",
  "--check",
  "--quiet"
]
const result = spawnSync("npx", ["--no-install", "deno", "run", ...flags, "test/deno/smoke.ts"], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1" }
})
if (result.error !== undefined) console.error(`deno smoke: could not start deno: ${result.error.message}`)
process.exit(result.status ?? 1)
