// npm run sandbox — the local Marketo alone, on 127.0.0.1:8788 (SANDBOX_PORT overrides).
// SANDBOX_CONFIG takes a JSON object of knobs (docs/sandbox.md), SANDBOX_SEED the fault seed.
import type { SandboxConfig } from "../test/sandbox/SandboxConfig.js"
import { startSandboxServer } from "../test/sandbox/server.js"

const config = JSON.parse(process.env["SANDBOX_CONFIG"] ?? "{}") as Partial<SandboxConfig>
const server = await startSandboxServer({
  port: Number(process.env["SANDBOX_PORT"] ?? 8788),
  host: "127.0.0.1",
  config,
  seed: Number(process.env["SANDBOX_SEED"] ?? 1)
})
const c = server.sandbox.config
console.log(`Marketo sandbox on ${server.url} (client id ${c.clientId}, folder "${c.folders[0]?.name ?? "none"}"); control under ${server.url}/__sandbox/`)
const stop = () => void server.close().then(() => process.exit(0))
process.on("SIGINT", stop)
process.on("SIGTERM", stop)
