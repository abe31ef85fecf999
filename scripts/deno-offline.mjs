// Running the Deno binary of the `deno` npm package offline: modules come from node_modules as
// they are (no npm or JSR download, no remote import, no update check).
//   --node-modules-dir=manual  resolve `effect` from ./node_modules, never install
//   --sloppy-imports            map the core's `./X.js` imports to the `.ts` sources
//   --config deno.check.json    compiler options only (the project's strict options, as in
//                               tsconfig.base.json); package.json alone names the dependencies
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("..", import.meta.url))

export const offlineFlags = ["--no-remote", "--cached-only", "--node-modules-dir=manual", "--config", "deno.check.json", "--sloppy-imports"]

/** Run `deno <args>` from the project root; answers its exit code. */
export const runDeno = (args, env = {}) => {
  const result = spawnSync("npx", ["--no-install", "deno", ...args], {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, DENO_NO_UPDATE_CHECK: "1", DENO_NO_PROMPT: "1", ...env }
  })
  if (result.error !== undefined) console.error(`deno: could not start: ${result.error.message}`)
  return result.status ?? 1
}
