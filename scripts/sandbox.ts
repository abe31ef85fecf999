// npm run sandbox — the local Marketo alone, on 127.0.0.1:8788 (SANDBOX_PORT overrides).
// SANDBOX_CONFIG takes a JSON object of knobs (docs/sandbox.md), SANDBOX_SEED the fault seed, and
// SANDBOX_IMPORTS (or `-- --imports fast`) how long imports take: realistic (default) or fast.
import { parseArgs } from "node:util"
import { importProfileOf, importTimings, type SandboxConfig } from "../test/sandbox/SandboxConfig.js"
import { startSandboxServer } from "../test/sandbox/server.js"

const { values } = parseArgs({ options: { imports: { type: "string" } } })
const imports = importProfileOf(values.imports ?? process.env["SANDBOX_IMPORTS"])
const config = { ...importTimings(imports), ...JSON.parse(process.env["SANDBOX_CONFIG"] ?? "{}") as Partial<SandboxConfig> }
const server = await startSandboxServer({
  port: Number(process.env["SANDBOX_PORT"] ?? 8788),
  host: "127.0.0.1",
  config,
  seed: Number(process.env["SANDBOX_SEED"] ?? 1)
})
const c = server.sandbox.config
console.log(`Marketo sandbox on ${server.url} (client id ${c.clientId}, folder "${c.folders[0]?.name ?? "none"}", ${imports} imports); control under ${server.url}/__sandbox/`)
const stop = () => void server.close().then(() => process.exit(0))
process.on("SIGINT", stop)
process.on("SIGTERM", stop)
