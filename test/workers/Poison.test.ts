// A poison corpus, each case followed by an event for a normal audience that must be on its
// Marketo list after the next tick: nothing a sender can put in an event stops another audience.
// Then the tick's own outcome: a failing tick turns the page's banner on and /admin/status says so.
import { env, SELF } from "cloudflare:test"
import { beforeAll, describe, expect, it } from "vitest"
import { base, membersOf as members, runTick as tick, sandbox } from "./WorkerKit.js"

let clock = 0
const event = (audience: string, user: string, email: string | ReadonlyArray<string>, extra: Record<string, unknown> = {}) => ({
  type: "identify",
  userId: user,
  messageId: `poison-${++clock}`,
  timestamp: new Date(Date.now() - 60_000 + clock).toISOString(),
  traits: { email, [audience]: true },
  context: { personas: { computation_key: audience } },
  ...extra
})

const post = (body: string) =>
  SELF.fetch(`${base}/v1/batch`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${env.INGEST_TOKEN}` },
    body
  })
const admin = (path: string, init: RequestInit = {}) =>
  SELF.fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${env.ADMIN_TOKEN}`, ...(init.headers ?? {}) } })

/** A batch of events for one audience, 100 emails each, as close to the 4 MiB body limit as it gets. */
const fourMiBBody = () => {
  const events: Array<string> = []
  let size = '{"batch":[]}'.length
  for (let i = 0; ; i++) {
    const text = JSON.stringify(event("poison_big", `big-${i}`, Array.from({ length: 100 }, (_, j) => `b${i}.${j}@example.com`)))
    if (size + text.length + 1 > 4 * 1024 * 1024) break
    events.push(text)
    size += text.length + 1
  }
  return `{"batch":[${events.join(",")}]}`
}

type Case = readonly [name: string, body: () => string, rejected: RegExp | null]

const cases: ReadonlyArray<Case> = [
  ["an audience key of 250 percent signs", () => JSON.stringify([event("%".repeat(250), "u1", "a@example.com")]), /512-byte key limit/],
  ["an audience key of 120 CJK characters", () => JSON.stringify([event("語".repeat(120), "u1", "a@example.com")]), /512-byte key limit/],
  ["an audience key \"..\"", () => JSON.stringify([event("..", "u1", "dots@example.com")]), null],
  ["an audience key \"a/../b\"", () => JSON.stringify([event("a/../b", "u1", "slash@example.com")]), null],
  ["an audience key of 255 characters", () => JSON.stringify([event("k".repeat(255), "u1", "long@example.com")]), null],
  ["a user id at its limit", () => JSON.stringify([event("poison_ids", "u".repeat(1_000), "uid@example.com")]), null],
  ["a user id over its limit", () => JSON.stringify([event("poison_ids", "u".repeat(1_001), "uid2@example.com")]), /userId is longer than 1000 characters/],
  ["a message id at its limit", () => JSON.stringify([event("poison_ids", "u2", "mid@example.com", { messageId: "m".repeat(1_000) })]), null],
  ["a message id over its limit", () => JSON.stringify([event("poison_ids", "u3", "mid2@example.com", { messageId: "m".repeat(1_001) })]), /messageId is longer than 1000 characters/],
  ["a 16-digit external audience id", () => JSON.stringify([event("poison_ext", "u1", "x@example.com", { context: { personas: { computation_key: "poison_ext", external_audience_id: "9999999999999999" } } })]), /external_audience_id "9999999999999999" is not a Marketo list id/],
  ["a far-future timestamp", () => JSON.stringify([event("poison_future", "u1", "f@example.com", { timestamp: "2999-01-01T00:00:00Z" })]), /more than 24 hours after the event arrived/],
  ["a 4 MiB body of one audience, 100 emails per event", fourMiBBody, null]
]

beforeAll(async () => {
  await sandbox("reset", { method: "POST", body: "{}" })
})

describe("poison corpus", () => {
  cases.forEach(([name, body, rejected], i) => {
    it(`${name}: answered with a reason or stored, and a normal audience still syncs on the next tick`, async () => {
      const text = body()
      expect(text.length).toBeLessThanOrEqual(4 * 1024 * 1024)
      const answer = await post(text)
      const json = (await answer.json()) as { rejected?: Array<{ index: number; reason: string }> }
      if (rejected === null) {
        expect(answer.status).toBe(200)
        expect(json.rejected).toEqual([])
      } else {
        expect([200, 400]).toContain(answer.status)
        expect(json.rejected?.[0]?.reason).toMatch(rejected)
      }
      expect((await post(JSON.stringify([event(`poison_ok_${i}`, "u1", `ok${i}@example.com`)]))).status).toBe(200)
      await tick()
      expect(await members(`poison_ok_${i}`)).toEqual([`ok${i}@example.com`])
    }, 120_000)
  })
})

describe("the tick's own outcome", () => {
  it("waiting events are shown before the tick; a failing tick turns the banner on; a good one turns it off", async () => {
    expect((await post(JSON.stringify([event("health_vip", "u1", "h@example.com")]))).status).toBe(200)
    const before = await (await admin("/")).text()
    expect(before).toContain("Waiting for the next tick: <b>1 change</b>")
    expect(before).toContain("health_vip")
    expect(before).not.toContain("No audience has sent events yet")
    const waiting = (await (await admin("/admin/status")).json()) as { inbox: { entries: number; changes: number; oldestAgeSeconds: number } }
    expect(waiting.inbox).toMatchObject({ entries: 1, changes: 1 })
    // Someone resets the API user's secret in Marketo and the tokens are revoked: every call of
    // the audience's sync fails at its token (401 invalid_client, not retried), so the tick does.
    await sandbox("client-secret", { method: "POST", body: JSON.stringify({ clientSecret: "reset-by-someone" }) })
    await sandbox("revoke-tokens", { method: "POST", body: "{}" })
    await tick()
    await tick()
    const failing = (await (await admin("/admin/status")).json()) as {
      lastTick: { outcome: string; error: { tag: string; hint: string } }
      failedTicksInARow: number
      quarantine: { count: number }
    }
    expect(failing.lastTick.outcome).toBe("failed")
    expect(failing.failedTicksInARow).toBe(2)
    expect(failing.lastTick.error.hint).toContain("MARKETO_CLIENT_SECRET")
    expect(failing.quarantine.count).toBe(0)
    const page = await (await admin("/")).text()
    expect(page).toContain("The last 2 ticks failed")
    expect(page).toMatch(/<svg[^>]*aria-label="Marketo calls per hour/)
    await sandbox("client-secret", { method: "POST", body: JSON.stringify({ clientSecret: env.MARKETO_CLIENT_SECRET }) })
    await tick()
    const healed = (await (await admin("/admin/status")).json()) as { lastTick: { outcome: string }; failedTicksInARow: number }
    expect(healed).toMatchObject({ lastTick: { outcome: "ok" }, failedTicksInARow: 0 })
    expect(await (await admin("/")).text()).not.toContain("ticks failed")
    expect(await members("health_vip")).toEqual(["h@example.com"])
  }, 120_000)

  it("the quarantine can be retried by the admin only", async () => {
    expect((await SELF.fetch(`${base}/admin/quarantine/retry`, { method: "POST" })).status).toBe(401)
    const retried = await admin("/admin/quarantine/retry", { method: "POST" })
    expect(retried.status).toBe(200)
    expect(await retried.json()).toMatchObject({ retried: 0, unreadable: 0 })
  })
})
