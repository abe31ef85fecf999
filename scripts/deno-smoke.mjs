// Runs test/deno/smoke.ts with the Deno binary of the `deno` npm package, offline (the flags:
// scripts/deno-offline.mjs), the core type-checked by Deno too. Exits with Deno's exit code.
import { offlineFlags, runDeno } from "./deno-offline.mjs"

process.exit(runDeno(["run", ...offlineFlags, "--check", "--quiet", "test/deno/smoke.ts"]))
