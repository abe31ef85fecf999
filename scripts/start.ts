// npm start — the product on this machine, with no Cloudflare account and no network: the Marketo
// sandbox on 127.0.0.1:8788 and the worker under `wrangler dev` on 127.0.0.1:8787, wired together
// with local credentials. Every other setting of the README's table set in the environment reaches
// the worker too. With MARKETO_ENDPOINT set, no sandbox starts and the worker talks to that Marketo
// with MARKETO_CLIENT_ID, MARKETO_CLIENT_SECRET and MARKETO_FOLDER.
// `wrangler dev` runs no cron on its own, so this script fires the scheduled handler every minute.
// The sandbox's imports take as long as Marketo's (scripts/LocalSandbox.ts).
import { spawn } from "node:child_process"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { startLocalSandbox } from "./LocalSandbox.js"
import { stopTogether } from "./StopTogether.js"
import { workerVars } from "./WorkerVars.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const workerPort = Number(process.env["PORT"] ?? 8787)

const main = async () => {
  const sandbox = await startLocalSandbox(process.env)
  // Every setting of the README's table that is set here reaches the worker (scripts/WorkerVars.ts).
  const settings = workerVars(process.env, sandbox?.url)
  const vars = Object.entries(settings).flatMap(([k, v]) => ["--var", `${k}:${v}`])
  // A fresh sandbox knows no lists, so the worker starts with fresh state too; against a real
  // Marketo, local state persists in .wrangler/state between runs.
  const persist = sandbox === undefined ? [] : ["--persist-to", mkdtempSync(join(tmpdir(), "marketo-static-lists-"))]
  const wrangler = spawn(
    process.execPath,
    [
      "node_modules/wrangler/bin/wrangler.js", "dev", "--local", "--ip", "127.0.0.1", "--port", String(workerPort),
      "--inspector-port", "9231", "--show-interactive-dev-session=false", "--log-level", "log", ...persist, ...vars
    ],
    {
      cwd: root,
      detached: true, // its own process group, so workerd children stop with it
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_HIDE_BANNER: "true" }
    }
  )
  const workerUrl = `http://127.0.0.1:${workerPort}`
  let cron: ReturnType<typeof setInterval> | undefined
  stopTogether(wrangler, async () => {
    clearInterval(cron)
    await sandbox?.close()
  })

  for (let i = 0; i < 120; i++) {
    const up = await fetch(`${workerUrl}/health`).then((r) => r.ok, () => false)
    if (up) break
    await new Promise((r) => setTimeout(r, 500))
  }
  // Secrets are never printed: the local defaults are in the README.
  console.log(`\nworker:  ${workerUrl}   (local credentials: see "Quickstart" in the README)`)
  console.log(`marketo: ${settings["MARKETO_ENDPOINT"]}${sandbox === undefined ? "" : "   (local sandbox: open it in a browser)"}`)
  console.log("a sync runs every minute; `npm run demo` sends sample events and syncs now. Ctrl-C stops both.\n")
  cron = setInterval(() => {
    void fetch(`${workerUrl}/cdn-cgi/handler/scheduled?cron=*/1+*+*+*+*`).catch(() => undefined)
  }, 60_000)
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
