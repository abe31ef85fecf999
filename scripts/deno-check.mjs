// Type-checks the Deno server (deno/main.ts and all it imports: the shared app, the Deno KV
// adapters, the core) with Deno, offline and with the project's strict options.
import { offlineFlags, runDeno } from "./deno-offline.mjs"

process.exit(runDeno(["check", ...offlineFlags, "--quiet", "--unstable-kv", "--unstable-cron", "deno/main.ts"]))
