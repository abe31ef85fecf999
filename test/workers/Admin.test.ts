// The admin API inside workerd: credentials on every route, the views, the dry run, a sync on
// demand, display names, and a misconfigured worker that still answers and names what is wrong.
import { createExecutionContext, createScheduledController, env, SELF, waitOnExecutionContext } from "cloudflare:test"
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest"
import worker from "../../workers/index.js"
import type { WorkerEnv } from "../../workers/WorkerEnv.js"

const base = "https://worker.test"
const auth = { authorization: `Bearer ${env.ADMIN_TOKEN}` }
const basic = (user: string, password = "") => `Basic ${btoa(`${user}:${password}`)}`
const secrets = () => [env.MARKETO_CLIENT_SECRET, env.INGEST_TOKEN, env.INGEST_SECRET, env.ADMIN_TOKEN]
let n = 0
const event = (audience: string, user: string, email: string, member = true) => ({
  type: "identify",
  userId: user,
  messageId: `admin-${++n}`,
  timestamp: new Date(Date.UTC(2026, 10, 20) + n * 1000).toISOString(),
  traits: { email, [audience]: member },
  context: { personas: { computation_key: audience, computation_class: "audience" } }
})
const send = async (events: ReadonlyArray<unknown>) => {
  const response = await SELF.fetch(`${base}/v1/batch`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${env.INGEST_TOKEN}` },
    body: JSON.stringify({ batch: events })
  })
  expect(response.status).toBe(200)
}
const admin = (method: string, path: string, body?: unknown) =>
  SELF.fetch(`${base}${path}`, { method, headers: auth, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })
const tick = async (withEnv: WorkerEnv = env) => {
  const ctx = createExecutionContext()
  await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/1 * * * *" }), withEnv, ctx)
  await waitOnExecutionContext(ctx)
}
const sandbox = async (path: string, init?: RequestInit) => (await fetch(`${env.MARKETO_ENDPOINT}/__sandbox/${path}`, init)).json()
const listsByName = async () =>
  new Map(((await sandbox("snapshot")) as { lists: Array<{ name: string; folderId?: number; members: Array<string> }> }).lists.map((l) => [l.name, l]))

const defaultFolder = { id: 1034, name: "Engage Audiences", type: "Folder", path: "/Lead Database/Group Lists/Engage Audiences" }
beforeAll(async () => {
  // A list named like one audience already exists in another folder: Marketo refuses a second (709).
  await sandbox("reset", {
    method: "POST",
    body: JSON.stringify({
      config: {
        folders: [defaultFolder, { id: 2000, name: "Webinars", type: "Folder", path: "/Lead Database/Group Lists/Webinars" }],
        lists: [{ name: "adm_taken", folderId: 2000 }]
      }
    })
  })
})
afterAll(async () => {
  await sandbox("reset", { method: "POST", body: JSON.stringify({ config: { folders: [defaultFolder], lists: [] } }) })
})

describe("admin credentials", () => {
  const routes: ReadonlyArray<readonly [string, string]> = [
    ["GET", "/admin/status"],
    ["GET", "/admin/audiences"],
    ["GET", "/admin/audiences/vip"],
    ["GET", "/admin/audiences/vip/plan"],
    ["PUT", "/admin/audiences/vip/name"],
    ["DELETE", "/admin/audiences/vip"],
    ["GET", "/admin/audiences/vip/reconcile"],
    ["POST", "/admin/audiences/vip/reconcile"],
    ["POST", "/admin/sync"],
    ["GET", "/"]
  ]
  it("refuses missing, wrong and ingest credentials on every admin route, and accepts the admin token", async () => {
    for (const [method, path] of routes) {
      for (const authorization of [undefined, "Bearer nope", `Bearer ${env.INGEST_TOKEN}`, basic(env.INGEST_TOKEN), basic("admin", "nope"), "Token x"]) {
        const response = await SELF.fetch(`${base}${path}`, { method, ...(authorization === undefined ? {} : { headers: { authorization } }) })
        expect(response.status, `${method} ${path} ${authorization}`).toBe(401)
        expect(response.headers.get("www-authenticate")).toMatch(/^Basic /)
        const text = await response.text()
        for (const secret of secrets()) expect(text).not.toContain(secret)
      }
      const allowed = await SELF.fetch(`${base}${path}`, { method, headers: { authorization: basic("anyone", env.ADMIN_TOKEN) } })
      expect(allowed.status, `${method} ${path}`).not.toBe(401)
      await allowed.body?.cancel()
    }
  })

  it("answers 404 for unknown paths and 405 with Allow for other methods", async () => {
    expect((await admin("GET", "/admin/nowhere")).status).toBe(404)
    const wrong = await admin("GET", "/admin/sync")
    expect(wrong.status).toBe(405)
    expect(wrong.headers.get("allow")).toBe("POST")
    expect(await wrong.json()).toEqual({ error: "/admin/sync accepts POST only" })
    expect((await admin("POST", "/admin/audiences/vip")).headers.get("allow")).toBe("GET, DELETE")
  })
})

describe("admin views", () => {
  it("shows settings without secrets, and the instance's budget", async () => {
    const response = await admin("GET", "/admin/status")
    const text = await response.text()
    for (const secret of secrets()) expect(text).not.toContain(secret)
    expect(JSON.parse(text)).toMatchObject({
      configuration: { ok: true, problems: [] },
      folder: "Engage Audiences",
      limits: { callsPer20s: 50, maxConcurrency: 5, dailyQuota: 50_000, dailyReserve: 5_000, latencyTargetMinutes: 5 },
      budget: { callsPerWindow: 50, maxConcurrency: 5, dailyQuota: 50_000, dailyReserve: 5_000 },
      // The quota is untouched: the scheduler can honour its 5-minute target.
      latency: { targetMinutes: 5, honouredMinutes: 5 }
    })
  })

  it("lists audiences, runs a sync on demand, and renames an audience's list", async () => {
    await send([event("adm_vip", "u1", "ada@example.com"), event("adm_vip", "u2", "bob@example.com"), event("adm_vip", "u3", "carl@example.com", false)])
    expect(await (await admin("GET", "/admin/audiences")).json()).toEqual({ audiences: [], configuration: [] })
    expect((await admin("GET", "/admin/audiences/adm_vip/plan")).status).toBe(404)

    const named = await admin("PUT", "/admin/audiences/adm_vip/name", { name: "  VIP customers " })
    expect(await named.json()).toEqual({ key: "adm_vip", listName: "VIP customers" })
    for (const body of [{ name: " " }, { name: 7 }, "x".repeat(3)]) expect((await admin("PUT", "/admin/audiences/adm_vip/name", body)).status).toBe(400)

    const sync = await admin("POST", "/admin/sync")
    expect(sync.status).toBe(200)
    const summary = (await sync.json()) as { inboxFolded: number; calls: number; audiences: Array<{ audience: string; added: number }> }
    expect(summary).toMatchObject({ inboxFolded: 1, audiences: [{ audience: "adm_vip", added: 2, remaining: { add: 0, remove: 0 } }] })
    expect(summary.calls).toBeGreaterThan(0)
    // What the tick asked of the state store, in its answer and in the tick record the status shows.
    const storage = (summary as unknown as { storage: { reads: number; writes: number; deletes: number; lists: number } }).storage
    expect(storage.reads).toBeGreaterThan(0)
    expect(storage.writes).toBeGreaterThan(0)
    expect(storage.deletes).toBeGreaterThan(0) // the folded inbox entry
    expect(storage.lists).toBeGreaterThan(0)
    const status = (await (await admin("GET", "/admin/status")).json()) as { lastTick: { storage?: unknown } }
    expect(status.lastTick.storage).toEqual(storage)
    expect((await listsByName()).get("VIP customers")?.members).toEqual(["ada@example.com", "bob@example.com"])

    const view = await admin("GET", "/admin/audiences/adm_vip")
    expect(await view.json()).toMatchObject({ key: "adm_vip", listName: "VIP customers", desired: 2, synced: 2, pending: { add: 0, remove: 0 } })
    const listed = (await (await admin("GET", "/admin/audiences")).json()) as { audiences: Array<{ key: string }> }
    expect(listed.audiences.map((a) => a.key)).toContain("adm_vip")
    const plan = await admin("GET", "/admin/audiences/adm_vip/plan")
    expect(await plan.json()).toEqual({ audience: "adm_vip", calls: 0, minDurationSeconds: 0, steps: [] })
    expect((await admin("GET", "/admin/audiences/nobody")).status).toBe(404)
    expect((await admin("GET", `/admin/audiences/${"k".repeat(300)}`)).status).toBe(400)
  })

  it("shows a list name taken outside the folder as lastError 709 with the plan left to do; a display name fixes it", async () => {
    await send([event("adm_taken", "t1", "tess@example.com"), event("adm_taken", "t2", "tom@example.com")])
    await tick()
    const view = (await (await admin("GET", "/admin/audiences/adm_taken")).json()) as { lastError?: { code: string; message: string }; pending: unknown }
    expect(view.lastError?.code).toBe("709")
    expect(view.pending).toEqual({ add: 2, remove: 0 })
    const plan = (await (await admin("GET", "/admin/audiences/adm_taken/plan")).json()) as { calls: number; minDurationSeconds: number; steps: Array<{ _tag: string }> }
    expect(plan.steps.map((s) => s._tag)).toContain("EnsureList")
    expect(plan.calls).toBeGreaterThanOrEqual(plan.steps.length)
    expect(plan.minDurationSeconds).toBeGreaterThanOrEqual(0)
    expect((await listsByName()).get("adm_taken")?.folderId).toBe(2000)

    await admin("PUT", "/admin/audiences/adm_taken/name", { name: "adm_taken (Engage)" })
    await tick()
    const lists = await listsByName()
    expect(lists.get("adm_taken (Engage)")?.members).toEqual(["tess@example.com", "tom@example.com"])
    expect(lists.get("adm_taken")?.members).toEqual([])
    expect(await (await admin("GET", "/admin/audiences/adm_taken")).json()).not.toHaveProperty("lastError")
  })
})

describe("a misconfigured worker", () => {
  const broken = { ...env, MARKETO_ENDPOINT: "", MARKETO_CLIENT_SECRET: " ", MARKETO_CALLS_PER_20S: "500" } as WorkerEnv
  const call = async (method: string, path: string, headers: Record<string, string>, body?: string) => {
    return worker.fetch(new Request(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) }), broken)
  }
  const named = [
    "MARKETO_ENDPOINT is not set (Admin → Web Services → REST API endpoint)",
    "MARKETO_CLIENT_SECRET is not set (wrangler secret put MARKETO_CLIENT_SECRET)",
    "MARKETO_CALLS_PER_20S must be a whole number from 1 to 100 (Marketo allows 100 per instance, shared by every integration)"
  ]

  it("still answers the admin API with each problem named", async () => {
    expect(await (await call("GET", "/admin/audiences", auth)).json()).toEqual({ audiences: [], configuration: named })
    expect(await (await call("GET", "/admin/status", auth)).json()).toEqual({ configuration: { ok: false, problems: named } })
    const sync = await call("POST", "/admin/sync", auth)
    expect(sync.status).toBe(503)
    expect(await sync.json()).toEqual({ error: "the worker is not configured", configuration: named })
    const ingest = await call("POST", "/v1/batch", { authorization: `Bearer ${env.INGEST_TOKEN}`, "content-type": "application/json" }, JSON.stringify(event("x", "u", "u@example.com")))
    expect(ingest.status).toBe(503)
  })

  it("logs one JSON line per cron tick and returns", async () => {
    const log = vi.spyOn(console, "log").mockImplementation(() => undefined)
    try {
      await tick(broken)
      await tick(broken)
      const lines = log.mock.calls.map((args) => JSON.parse(String(args[0])) as { message: string; logLevel: string; annotations: Record<string, string> })
      expect(lines).toHaveLength(2)
      for (const line of lines) {
        expect(line).toMatchObject({ message: "sync skipped: configuration", logLevel: "ERROR" })
        expect(line.annotations["problems"]).toBe(named.join("; "))
      }
    } finally {
      log.mockRestore()
    }
  })
})
