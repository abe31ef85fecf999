// The worker's end-to-end checks against the Deno server (deno/main.ts over Deno KV): events over
// HTTP → ticks → the sandbox's lists hold exactly the desired emails; exits, shared emails,
// removals, the admin views and the hostile corpus answer as they do on Cloudflare.
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import corpus from "../workers/hostile/corpus.json"
import { admin, members, type Rig, send, startRig, tick, tokens } from "./DenoServerKit.js"

let rig: Rig
beforeAll(async () => {
  rig = await startRig()
}, 60_000)
afterAll(async () => {
  await rig?.close()
})

let clock = 0
const event = (audience: string, user: string, email: string | ReadonlyArray<string>, member: boolean) => ({
  type: "identify",
  userId: user,
  messageId: `deno-${++clock}`,
  timestamp: new Date(Date.UTC(2026, 10, 20) + clock * 1000).toISOString(),
  traits: { email, [audience]: member },
  context: { personas: { computation_key: audience, computation_class: "audience" } }
})

describe("end to end on the Deno server", () => {
  it("syncs events to lists, then exits, email changes and shared emails converge", async () => {
    await send(rig, [
      event("d_vip", "u1", "ada@example.com", true),
      event("d_vip", "u2", ["grace@example.com", "grace@work.example.com"], true),
      event("d_vip", "u3", "shared@example.com", true),
      event("d_vip", "u4", "shared@example.com", true),
      event("d_news", "u1", "ada@example.com", true)
    ])
    expect((await admin(rig, "/admin/audiences/d_vip/plan")).status).toBe(404)
    await tick(rig)
    expect(members(rig, "d_vip")).toEqual(["ada@example.com", "grace@example.com", "grace@work.example.com", "shared@example.com"])
    expect(members(rig, "d_news")).toEqual(["ada@example.com"])

    const exit = event("d_vip", "u1", "ada@example.com", false)
    const lateEnter = { ...event("d_vip", "u1", "ada@example.com", true), timestamp: "2026-11-19T00:00:00Z" }
    await send(rig, [exit, exit, lateEnter, event("d_vip", "u3", "shared@example.com", false)])
    expect(await tick(rig)).toMatchObject({ inboxFolded: 1, audiences: [{ audience: "d_vip", removed: 1 }] })
    await send(rig, [event("d_vip", "u2", "grace@work.example.com", false), event("d_vip", "u2", "grace@new.example.com", true)])
    await tick(rig)
    expect(members(rig, "d_vip")).toEqual(["grace@example.com", "grace@new.example.com", "shared@example.com"])

    const view = await admin(rig, "/admin/audiences/d_vip")
    expect(await view.json()).toMatchObject({ desired: 3, synced: 3, pending: { add: 0, remove: 0 }, lastSync: { outcome: "ok" } })
    const status = (await (await admin(rig, "/admin/status")).json()) as Record<string, unknown>
    expect(status).toMatchObject({ configuration: { ok: true }, lastTick: { outcome: "ok" }, failedTicksInARow: 0, inbox: { entries: 0 } })
    const page = await fetch(`${rig.url}/`, { headers: { authorization: `Basic ${btoa(`admin:${tokens.ADMIN_TOKEN}`)}` } })
    expect(page.status).toBe(200)
    expect(page.headers.get("content-security-policy")).toContain("default-src 'none'")
    expect(await page.text()).toContain("d_vip")
  })

  it("removes an audience with a tombstone: a replay is ignored, newer events start it afresh", async () => {
    const first = event("d_gone", "g1", "gone@example.com", true)
    await send(rig, [first])
    await tick(rig)
    expect(members(rig, "d_gone")).toEqual(["gone@example.com"])
    const removed = await admin(rig, "/admin/audiences/d_gone?list=keep", { method: "DELETE" })
    expect(removed.status).toBe(200)
    expect(await send(rig, [first])).toMatchObject({ accepted: 0, ignored: 1 })
    expect((await admin(rig, "/admin/audiences/d_gone")).status).toBe(404)
    await send(rig, [{ ...event("d_gone", "g2", "again@example.com", true), timestamp: new Date(Date.now() + 1000).toISOString() }])
    await tick(rig)
    expect(await (await admin(rig, "/admin/audiences/d_gone")).json()).toMatchObject({ desired: 1, removed: { ignoredEvents: 1 } })
  })

  it("answers the hostile corpus exactly, then a tick syncs only what was valid", async () => {
    for (const c of corpus as ReadonlyArray<{ name: string; status: number; expect: unknown; json?: unknown; body?: string; bodyBase64?: string; nestedDepth?: number; contentType?: string }>) {
      const body = c.body ?? (c.bodyBase64 !== undefined
        ? Buffer.from(c.bodyBase64, "base64")
        : c.nestedDepth !== undefined
        ? "[".repeat(c.nestedDepth) + "]".repeat(c.nestedDepth)
        : JSON.stringify(c.json))
      const response = await fetch(`${rig.url}/v1/batch`, {
        method: "POST",
        body,
        headers: { "content-type": c.contentType ?? "application/json", authorization: `Bearer ${tokens.INGEST_TOKEN}` }
      })
      expect(response.status, c.name).toBe(c.status)
      expect(await response.json(), c.name).toEqual(c.expect)
    }
    await tick(rig)
    expect(members(rig, "hostile_vip")).toEqual(["=cmd@example.com", "proto@example.com"])
    expect((await fetch(`${rig.url}/admin/status`)).status).toBe(401)
    expect((await admin(rig, "/admin/sync", { method: "POST", headers: { origin: "https://evil.example" } })).status).toBe(403)
  })

  it("keeps concurrent senders and syncs inside the budget, every list exact", async () => {
    const events = Array.from({ length: 300 }, (_, i) => event(`d_many_${i % 3}`, `m${i}`, `m${i}@example.com`, true))
    const syncs = Array.from({ length: 3 }, () => admin(rig, "/admin/sync", { method: "POST" }).then((r) => r.status))
    const [, statuses] = await Promise.all([
      Promise.all(Array.from({ length: 10 }, (_, b) => send(rig, events.slice(b * 30, b * 30 + 30)))),
      Promise.all(syncs)
    ])
    // Only one sync holds the instance's lease; the others are told to come back.
    for (const s of statuses) expect([200, 409]).toContain(s)
    await tick(rig)
    await tick(rig)
    for (let a = 0; a < 3; a++) {
      expect(members(rig, `d_many_${a}`)).toEqual(Array.from({ length: 100 }, (_, k) => `m${k * 3 + a}@example.com`).sort())
    }
    const counters = rig.sandbox.sandbox.counters() as { byOutcome: Record<string, number> }
    expect((counters.byOutcome["606"] ?? 0) + (counters.byOutcome["615"] ?? 0)).toBe(0)
  })
})
