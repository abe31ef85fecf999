// Events in → cron ticks inside workerd → the sandbox's lists hold exactly the desired emails.
import { env, SELF } from "cloudflare:test"
import { beforeAll, describe, expect, it } from "vitest"
import { base, membersOf, runTick, sandbox, sendBatch } from "./WorkerKit.js"

let clock = 0
const event = (audience: string, user: string, email: string | ReadonlyArray<string>, member: boolean) => ({
  type: "identify",
  userId: user,
  messageId: `e2e-${++clock}`,
  timestamp: new Date(Date.UTC(2026, 10, 20) + clock * 1000).toISOString(),
  traits: { email, [audience]: member },
  context: { personas: { computation_key: audience, computation_class: "audience" } }
})

const send = sendBatch
const tick = () => runTick()
const members = membersOf
const refusedByRate = async () => {
  const counters = (await sandbox("counters")) as { byOutcome: Record<string, number> }
  return (counters.byOutcome["606"] ?? 0) + (counters.byOutcome["615"] ?? 0)
}

beforeAll(async () => {
  await sandbox("reset", { method: "POST", body: "{}" })
})

describe("end to end inside workerd", () => {
  it("syncs events to lists, then exits, email changes, shared emails, duplicates and reordering converge", async () => {
    await send([
      event("e2e_vip", "u1", "ada@example.com", true),
      event("e2e_vip", "u2", ["grace@example.com", "grace@work.example.com"], true),
      event("e2e_vip", "u3", "shared@example.com", true),
      event("e2e_vip", "u4", "shared@example.com", true),
      event("e2e_news", "u1", "ada@example.com", true)
    ])
    const plan = await SELF.fetch(`${base}/admin/audiences/e2e_vip/plan`, { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } })
    // The inbox is folded by the first tick; before it the audience is not known yet.
    expect(plan.status).toBe(404)
    await tick()
    expect(await members("e2e_vip")).toEqual(["ada@example.com", "grace@example.com", "grace@work.example.com", "shared@example.com"])
    expect(await members("e2e_news")).toEqual(["ada@example.com"])

    const exit = event("e2e_vip", "u1", "ada@example.com", false)
    const lateEnter = { ...event("e2e_vip", "u1", "ada@example.com", true), timestamp: "2026-11-19T00:00:00Z" }
    await send([exit, exit, lateEnter, event("e2e_vip", "u3", "shared@example.com", false)])
    const sync = await SELF.fetch(`${base}/admin/sync`, { method: "POST", headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } })
    expect(await sync.json()).toMatchObject({ inboxFolded: 1, audiences: [{ audience: "e2e_vip", removed: 1 }] })
    await send([event("e2e_vip", "u2", "grace@work.example.com", false), event("e2e_vip", "u2", "grace@new.example.com", true)])
    await tick()
    await tick()
    expect(await members("e2e_vip")).toEqual(["grace@example.com", "grace@new.example.com", "shared@example.com"])

    const view = await SELF.fetch(`${base}/admin/audiences/e2e_vip`, { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } })
    expect(await view.json()).toMatchObject({ desired: 3, synced: 3, pending: { add: 0, remove: 0 }, lastSync: { outcome: "ok" } })
  })

  it("keeps concurrent invocations inside the budget: no 606 or 615 caused by us", async () => {
    const before = await refusedByRate()
    const events = Array.from({ length: 900 }, (_, i) => event(`e2e_many_${i % 3}`, `m${i}`, `m${i}@example.com`, true))
    // 30 senders at once, while syncs on demand and cron ticks run: each batch is stored on its own.
    const batches = Array.from({ length: 30 }, (_, b) => send(events.slice(b * 30, b * 30 + 30)))
    const syncs = Array.from({ length: 4 }, () =>
      SELF.fetch(`${base}/admin/sync`, { method: "POST", headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } }).then(async (r) => {
        // Only one sync holds the instance's lease; the others are told to come back.
        expect([200, 409]).toContain(r.status)
        await r.body?.cancel()
      }))
    await Promise.all([...batches, ...syncs, tick(), tick()])
    for (let i = 0; i < 3; i++) await tick()
    for (let a = 0; a < 3; a++) {
      const want = Array.from({ length: 300 }, (_, k) => `m${k * 3 + a}@example.com`).sort()
      expect(await members(`e2e_many_${a}`)).toEqual(want)
    }
    expect(await refusedByRate()).toBe(before)
  })
})
