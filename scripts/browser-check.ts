// npm run test:browser — the status page in a real browser: starts the product locally (sandbox +
// wrangler dev), sends the demo events and syncs, opens GET / in headless Chromium (Debian's
// `chromium`, driven by playwright-core) with the admin token, checks what a person sees, clicks a
// list's "check" button, saves a phone-sized screenshot to docs/status-page.png, then visits a
// foreign page that posts the same form to the worker and frames the page: both must fail. Last,
// the sync's own health: waiting events, and the red banner of failing ticks (screenshots in docs/).
// Needs /usr/bin/chromium (apt-get install chromium); not part of `npm test`.
import { spawn, spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { createServer } from "node:http"
import { tmpdir } from "node:os"
import { join } from "node:path"
import type { AddressInfo } from "node:net"
import { fileURLToPath } from "node:url"
import { chromium } from "playwright-core"

const root = fileURLToPath(new URL("..", import.meta.url))
const executablePath = process.env["CHROMIUM"] ?? "/usr/bin/chromium"
if (!existsSync(executablePath)) {
  console.error(`browser check: no Chromium at ${executablePath} (apt-get install chromium, or set CHROMIUM)`)
  process.exit(1)
}
const worker = "http://127.0.0.1:8787"
const vite = "node_modules/vite-node/vite-node.mjs"
let passed = 0
const failures: Array<string> = []
const check = (name: string, ok: boolean) => {
  if (ok) passed++
  else failures.push(name)
  console.log(`${ok ? "ok" : "FAIL"} - ${name}`)
}

// Everything the run prints or serves, searched for secrets at the end.
const outputs: Array<string> = []
// `-- --runtime deno`: the same checks against the Deno server (npm run start:deno).
const runtime = process.argv.includes("--runtime") ? process.argv[process.argv.indexOf("--runtime") + 1] : "cloudflare"
if (runtime !== "cloudflare" && runtime !== "deno") {
  console.error(`browser check: --runtime takes cloudflare or deno, got ${runtime}`)
  process.exit(2)
}
console.log(`browser check against the ${runtime === "deno" ? "Deno server" : "Cloudflare worker (wrangler dev)"}`)
// The screenshots in docs/ are the Cloudflare worker's; the Deno run keeps its own in a temporary folder.
const shot = (name: string) => (runtime === "deno" ? join(tmpdir(), `deno-${name}`) : `${root}docs/${name}`)
const startScript = runtime === "deno" ? "scripts/start-deno.ts" : "scripts/start.ts"
const product = spawn(process.execPath, [vite, startScript], { cwd: root, detached: true, stdio: ["ignore", "pipe", "pipe"] })
product.stdout.on("data", (chunk: Buffer) => outputs.push(chunk.toString()))
product.stderr.on("data", (chunk: Buffer) => outputs.push(chunk.toString()))
const stop = () => {
  try {
    process.kill(-product.pid!, "SIGTERM")
  } catch { /* gone */ }
}
try {
  let up = false
  for (let i = 0; i < 120 && !up; i++) {
    up = await fetch(`${worker}/health`).then((r) => r.ok, () => false)
    if (!up) await new Promise((r) => setTimeout(r, 500))
  }
  check("the product starts", up)
  const demo = spawnSync(process.execPath, [vite, "scripts/demo.ts"], { cwd: root, encoding: "utf8" })
  outputs.push(demo.stdout, demo.stderr)
  check("the demo runs", demo.status === 0)

  const browser = await chromium.launch({
    executablePath,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"]
  })
  const refused = await fetch(`${worker}/`)
  check("the page asks for credentials", refused.status === 401 && (refused.headers.get("www-authenticate") ?? "").startsWith("Basic"))
  const context = await browser.newContext({ httpCredentials: { username: "admin", password: "dev-admin-token" }, viewport: { width: 430, height: 900 }, deviceScaleFactor: 1 })
  const page = await context.newPage()
  const response = await page.goto(`${worker}/`)
  check("the page opens with the admin token", response?.status() === 200)
  const text = await page.locator("body").innerText()
  outputs.push(await page.content())
  for (const path of ["/admin/audiences", "/admin/status", "/admin/audiences/vip_customers", "/admin/audiences/vip_customers/plan"]) {
    outputs.push(await (await fetch(`${worker}${path}`, { headers: { authorization: "Bearer dev-admin-token" } })).text())
  }
  outputs.push(await (await fetch(`${worker}/v1/batch`, { method: "POST", headers: { authorization: "Bearer wrong" } })).text())
  check("it lists both audiences", text.includes("first_time_shopper") && text.includes("vip_customers"))
  check("it shows members without email", /members without email\s*1/.test(text))
  check("it shows the day's calls against the quota", /Marketo calls today: \d+ of 45000/.test(text))
  check("the lists are up to date", (text.match(/up to date/g) ?? []).length === 2)
  await page.screenshot({ path: shot("status-page.png"), fullPage: true })
  check("the page's own style applies under its Content-Security-Policy", (await page.locator("section").first().evaluate((e) => getComputedStyle(e).borderTopStyle)) === "solid")
  await Promise.all([page.waitForNavigation({ timeout: 20_000 }), page.getByRole("button").first().click()])
  check("the check button returns to the page", (await page.locator("h1").innerText()) === "Marketo static lists")

  // A foreign page the signed-in admin visits: it posts the same form to the worker, and frames the page.
  const usedToday = async () =>
    ((await (await fetch(`${worker}/admin/status`, { headers: { authorization: "Bearer dev-admin-token" } })).json()) as { budget: { usedToday: number } }).budget.usedToday
  const foreign = createServer((request, response) => {
    response.writeHead(200, { "content-type": "text/html; charset=utf-8" })
    response.end(request.url === "/frame"
      ? `<!doctype html><iframe name="framed" src="${worker}/"></iframe>`
      : `<!doctype html><form method="post" action="${worker}/admin/audiences/vip_customers/reconcile"></form><script>document.forms[0].submit()</script>`)
  })
  await new Promise<void>((resolve) => foreign.listen(0, "127.0.0.1", resolve))
  const foreignUrl = `http://localhost:${(foreign.address() as AddressInfo).port}`
  try {
    const before = await usedToday()
    const [forged] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/reconcile") && r.request().method() === "POST", { timeout: 20_000 }),
      page.goto(`${foreignUrl}/`)
    ])
    await page.waitForLoadState()
    outputs.push(await page.content())
    check("a foreign page's form post to the admin API is refused with 403", forged.status() === 403 && (await page.locator("body").innerText()).includes("comes from another site"))
    check("the refused post changed nothing (no Marketo call was made)", (await usedToday()) === before)
    // Framed from an origin of the same site, where the browser does send the page's credentials:
    // it shows nothing of the worker, not even a refusal.
    await page.goto(`http://127.0.0.1:${(foreign.address() as AddressInfo).port}/frame`)
    await page.waitForTimeout(1_000)
    const framed = page.frame({ name: "framed" })
    const framedText = framed === null ? "" : await framed.locator("body").innerText().catch(() => "")
    outputs.push(framedText)
    check("a foreign page cannot frame the status page (or any answer of the worker)", framed !== null && !framedText.includes("Marketo static lists") && !framedText.includes("sign in"))
  } finally {
    foreign.close()
  }
  // The sync's own health: events waiting for the next tick, then ticks that fail.
  const admin = (path: string, init: RequestInit = {}) => fetch(`${worker}${path}`, { ...init, headers: { authorization: "Bearer dev-admin-token", ...(init.headers ?? {}) } })
  const health = await context.newPage()
  const sent = await fetch(`${worker}/v1/batch`, {
    method: "POST",
    headers: { authorization: "Bearer dev-ingest-token", "content-type": "application/json" },
    body: JSON.stringify({ batch: [{ type: "identify", userId: "late-1", messageId: "browser-late-1", timestamp: new Date().toISOString(), traits: { email: "late@example.com", late_signups: true }, context: { personas: { computation_key: "late_signups" } } }] })
  })
  check("a new audience's event is accepted", sent.status === 200)
  await health.goto(`${worker}/`)
  const waitingText = await health.locator("body").innerText()
  outputs.push(await health.content())
  check("the page shows the events waiting for the next tick, and their audience", waitingText.includes("Waiting for the next tick") && waitingText.includes("late_signups"))
  await health.screenshot({ path: shot("status-page-waiting.png"), fullPage: true })
  // Someone resets the API user's secret in Marketo and the tokens are revoked: the ticks fail at
  // the token (401 invalid_client), and the banner says which settings to check.
  const sandboxControl = (route: string, body: unknown) => fetch(`http://127.0.0.1:8788/__sandbox/${route}`, { method: "POST", body: JSON.stringify(body) })
  await sandboxControl("client-secret", { clientSecret: "reset-by-someone" })
  await sandboxControl("revoke-tokens", {})
  for (let i = 0; i < 2; i++) outputs.push(await (await admin("/admin/sync", { method: "POST" })).text())
  await health.goto(`${worker}/`)
  const failingText = await health.locator("body").innerText()
  outputs.push(await health.content())
  check("a red banner says the last ticks failed, with what to do", /The last \d+ ticks failed/.test(failingText) && failingText.includes("MARKETO_CLIENT_SECRET") && (await health.locator(".banner").count()) === 1)
  await health.screenshot({ path: shot("status-page-failing.png"), fullPage: true })
  await sandboxControl("client-secret", { clientSecret: "local-client-secret" })
  outputs.push(await (await admin("/admin/sync", { method: "POST" })).text())
  await health.goto(`${worker}/`)
  check("the banner goes once a tick succeeds", (await health.locator(".banner").count()) === 0)
  await browser.close()
  // The Marketo access token the worker holds is the sandbox's current one.
  const token = ((await (await fetch("http://127.0.0.1:8788/identity/oauth/token?grant_type=client_credentials&client_id=local-client-id&client_secret=local-client-secret")).json()) as { access_token: string }).access_token
  await new Promise((r) => setTimeout(r, 500))
  const everything = outputs.join("\n")
  const leaked = ["dev-ingest-token", "dev-ingest-secret", "dev-admin-token", "local-client-secret", token].filter((secret) => everything.includes(secret))
  check("the worker's own log lines were among them", everything.includes("\"message\":\"request\"") && everything.includes("\"message\":\"step\""))
  check(`no secret in any output of the run (${everything.length} characters searched)`, leaked.length === 0)
} finally {
  stop()
  await new Promise((r) => setTimeout(r, 1500))
}
console.log(`browser: ${passed} passed, ${failures.length} failed`)
process.exit(failures.length === 0 ? 0 : 1)
