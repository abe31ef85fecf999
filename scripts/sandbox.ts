// npm run sandbox — the local Marketo alone, on 127.0.0.1:8788 (SANDBOX_PORT overrides).
import { startSandboxServer } from "../test/sandbox/server.js"

const server = await startSandboxServer({ port: Number(process.env["SANDBOX_PORT"] ?? 8788), host: "127.0.0.1" })
console.log(`Marketo sandbox on ${server.url} (client id local-client-id, secret local-client-secret, folder "Engage Audiences")`)
const stop = () => void server.close().then(() => process.exit(0))
process.on("SIGINT", stop)
process.on("SIGTERM", stop)
