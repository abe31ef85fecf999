// How many audiences a sender may create, and which: MAX_AUDIENCES and AUDIENCE_KEYS at ingest,
// inside workerd. Refused events are named one by one, with the setting that refused them.
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test"
import { describe, expect, it } from "vitest"
import worker from "../../workers/index.js"
import type { WorkerEnv } from "../../workers/WorkerEnv.js"

const base = "https://worker.test"
let n = 0
const event = (audience: string, email = `m${++n}@example.com`) => ({
  type: "identify",
  userId: email,
  messageId: `limits-${++n}`,
  timestamp: "2026-11-20T10:00:00Z",
  traits: { email, [audience]: true },
  context: { personas: { computation_key: audience } }
})
const ingest = async (withEnv: WorkerEnv, events: ReadonlyArray<unknown>) => {
  const response = await worker.fetch(
    new Request(`${base}/v1/batch`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${env.INGEST_TOKEN}` },
      body: JSON.stringify({ batch: events })
    }),
    withEnv
  )
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}
const tick = async (withEnv: WorkerEnv) => {
  const ctx = createExecutionContext()
  await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/1 * * * *" }), withEnv, ctx)
  await waitOnExecutionContext(ctx)
}
const sandboxLists = async () =>
  ((await (await fetch(`${env.MARKETO_ENDPOINT}/__sandbox/snapshot`)).json()) as { lists: Array<{ name: string }> }).lists.map((l) => l.name)
const full = (key: string, max: number) =>
  `audience "${key}" is new and MAX_AUDIENCES (${max}) audiences exist: remove one (DELETE /admin/audiences/:key) or raise MAX_AUDIENCES`

describe("MAX_AUDIENCES", () => {
  it("rejects, per event, events for new audience keys beyond the limit; known keys go on", async () => {
    const limited = { ...env, MAX_AUDIENCES: "2" } as WorkerEnv
    expect(await ingest(limited, [event("lim_a"), event("lim_b"), event("lim_c"), event("lim_a"), event("lim_c")])).toEqual({
      status: 200,
      body: { accepted: 3, rejected: [{ index: 2, reason: full("lim_c", 2) }, { index: 4, reason: full("lim_c", 2) }] }
    })
    expect(await ingest(limited, [event("lim_d")])).toEqual({
      status: 400,
      body: { error: "no event in the body was accepted", rejected: [{ index: 0, reason: full("lim_d", 2) }] }
    })
    expect((await ingest(limited, [event("lim_b")])).body).toEqual({ accepted: 1, rejected: [] })
    await tick(limited)
    const lists = await sandboxLists()
    expect(lists).toEqual(expect.arrayContaining(["lim_a", "lim_b"]))
    expect(lists).not.toContain("lim_c")
    expect(lists).not.toContain("lim_d")

    // Removing an audience frees its place.
    const removed = await worker.fetch(new Request(`${base}/admin/audiences/lim_a?list=keep`, { method: "DELETE", headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } }), limited)
    expect(removed.status).toBe(200)
    expect((await ingest(limited, [event("lim_d")])).body).toEqual({ accepted: 1, rejected: [] })
  })

  it("holds exactly under many simultaneous requests, and is 500 by default", async () => {
    const limited = { ...env, MAX_AUDIENCES: "5" } as WorkerEnv
    const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => ingest(limited, [event(`race_${i}`)])))
    expect(answers.filter((a) => a.status === 200)).toHaveLength(5)
    expect(answers.filter((a) => a.status === 400)).toHaveLength(7)

    const many = await ingest(env, Array.from({ length: 501 }, (_, i) => event(`bulk_${String(i).padStart(3, "0")}`)))
    expect(many.status).toBe(200)
    // Five audiences exist from the race above.
    expect(many.body["accepted"]).toBe(495)
    expect(many.body["rejected"]).toHaveLength(6)
    expect((many.body["rejected"] as Array<{ index: number; reason: string }>)[0]).toEqual({ index: 495, reason: full("bulk_495", 500) })
  })

  it("names an invalid MAX_AUDIENCES and stores nothing until it is fixed", async () => {
    const broken = { ...env, MAX_AUDIENCES: "lots" } as WorkerEnv
    expect(await ingest(broken, [event("any")])).toEqual({
      status: 503,
      body: {
        error: "the worker is not configured yet; events were not stored",
        configuration: ["MAX_AUDIENCES must be a whole number from 1 to 10000 (each audience is a Marketo list, and every tick and page load reads its record)"]
      }
    })
  })
})

describe("AUDIENCE_KEYS", () => {
  it("rejects, per event, events for keys it does not list", async () => {
    const listed = { ...env, AUDIENCE_KEYS: "keys_vip, keys_engage_*" } as WorkerEnv
    expect(await ingest(listed, [event("keys_vip"), event("keys_engage_churn"), event("keys_other"), event("keys_vip_2")])).toEqual({
      status: 200,
      body: {
        accepted: 2,
        rejected: [
          { index: 2, reason: "audience \"keys_other\" is not in AUDIENCE_KEYS" },
          { index: 3, reason: "audience \"keys_vip_2\" is not in AUDIENCE_KEYS" }
        ]
      }
    })
    await tick(listed)
    const lists = await sandboxLists()
    expect(lists).toEqual(expect.arrayContaining(["keys_vip", "keys_engage_churn"]))
    expect(lists).not.toContain("keys_other")
    expect(lists).not.toContain("keys_vip_2")
  })
})
