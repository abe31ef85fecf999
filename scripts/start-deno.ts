// npm run start:deno — the product on Deno on this machine, as `npm start` runs it on workerd: the
// Marketo sandbox on 127.0.0.1:8788 and the Deno server (deno/main.ts) on 127.0.0.1:8787, with the
// same settings (scripts/WorkerVars.ts: local tokens, folder, and every setting of the README's
// table set in the environment). Its state is a Deno KV file in a fresh temporary folder. With
// MARKETO_ENDPOINT set, no sandbox starts and the server talks to that Marketo. Deno.cron runs
// the tick every minute; Ctrl-C stops both. The sandbox's imports take as long as Marketo's
// (scripts/LocalSandbox.ts: `-- --imports fast` or SANDBOX_IMPORTS=fast for seconds).
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { startDenoServer } from "./DenoServer.js"
import { startLocalSandbox } from "./LocalSandbox.js"
import { stopTogether } from "./StopTogether.js"
import { workerVars } from "./WorkerVars.js"

const port = Number(process.env["PORT"] ?? 8787)

const main = async () => {
  const sandbox = await startLocalSandbox(process.env)
  const settings = workerVars(process.env, sandbox?.url)
  const kvPath = join(mkdtempSync(join(tmpdir(), "marketo-static-lists-deno-")), "state.sqlite3")
  const server = await startDenoServer({
    host: "127.0.0.1",
    port,
    kvPath,
    settings,
    // Against the sandbox, only this machine; against a real Marketo, its host too.
    allowNet: sandbox === undefined ? [] : ["127.0.0.1"]
  })
  stopTogether(server.process, async () => {
    await server.close()
    await sandbox?.close()
  })
  // Secrets are never printed: the local defaults are in the README.
  console.log(`\nserver:  ${server.url}   (Deno; local credentials: see "Quickstart" in the README)`)
  console.log(`marketo: ${settings["MARKETO_ENDPOINT"]}${sandbox === undefined ? "" : "   (local sandbox: open it in a browser)"}`)
  console.log(`state:   ${kvPath}`)
  console.log("Deno.cron syncs every minute; `npm run demo` sends sample events and syncs now. Ctrl-C stops both.\n")
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
