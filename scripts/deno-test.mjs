// Runs the Deno tests (test/deno/*.test.ts: the port contracts against the Deno KV adapters, and
// what is particular to them) under `deno test`, offline and type-checked with the project's
// strict options. Each test's databases are files in a temporary directory, the only place the
// tests may read or write, removed afterwards. Exits with Deno's exit code.
import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { offlineFlags, root, runDeno } from "./deno-offline.mjs"

const directory = mkdtempSync(join(tmpdir(), "deno-kv-"))
const tests = readdirSync(join(root, "test/deno")).filter((f) => f.endsWith(".test.ts")).map((f) => `test/deno/${f}`)
let status = 1
try {
  status = runDeno(
    [
      "test",
      ...offlineFlags,
      "--unstable-kv",
      "--allow-env=DENO_KV_DIR",
      `--allow-read=${directory}`,
      `--allow-write=${directory}`,
      "--parallel",
      "--quiet",
      ...tests
    ],
    { DENO_KV_DIR: directory }
  )
} finally {
  rmSync(directory, { recursive: true, force: true })
}
process.exit(status)
