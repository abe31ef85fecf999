// A corpus of hostile and broken requests (test/workers/hostile/corpus.json), each with the exact
// status and answer expected. None may crash a tick, corrupt state, or reach Marketo unescaped.
import { createExecutionContext, createScheduledController, env, SELF, waitOnExecutionContext } from "cloudflare:test"
import { describe, expect, it } from "vitest"
import worker from "../../workers/index.js"
import corpus from "./hostile/corpus.json"

interface Case {
  readonly name: string
  readonly status: number
  readonly expect: unknown
  readonly json?: unknown
  readonly body?: string
  readonly bodyBase64?: string
  readonly nestedDepth?: number
  readonly contentType?: string
}

const bodyOf = (c: Case): BodyInit =>
  c.body ?? (c.bodyBase64 !== undefined
    ? Uint8Array.from(atob(c.bodyBase64), (ch) => ch.charCodeAt(0))
    : c.nestedDepth !== undefined
    ? "[".repeat(c.nestedDepth) + "]".repeat(c.nestedDepth)
    : JSON.stringify(c.json))

describe("hostile input", () => {
  it("answers every case of the corpus exactly, then a tick syncs only what was valid", async () => {
    for (const c of corpus as ReadonlyArray<Case>) {
      const response = await SELF.fetch("https://worker.test/v1/batch", {
        method: "POST",
        body: bodyOf(c),
        headers: { "content-type": c.contentType ?? "application/json", authorization: `Bearer ${env.INGEST_TOKEN}` }
      })
      expect(response.status, c.name).toBe(c.status)
      expect(await response.json(), c.name).toEqual(c.expect)
    }
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined()

    const ctx = createExecutionContext()
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/1 * * * *" }), env, ctx)
    await waitOnExecutionContext(ctx)
    const snapshot = (await (await fetch(`${env.MARKETO_ENDPOINT}/__sandbox/snapshot`)).json()) as { lists: Array<{ name: string; members: Array<string> }> }
    // The formula-like address reached Marketo as itself, through the JSON upsert, never a CSV.
    expect(snapshot.lists.find((l) => l.name === "hostile_vip")?.members).toEqual(["=cmd@example.com", "proto@example.com"])
    const view = await SELF.fetch("https://worker.test/admin/audiences/hostile_vip", { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } })
    expect(await view.json()).toMatchObject({ desired: 2, synced: 2, pending: { add: 0, remove: 0 }, lastSync: { outcome: "ok" } })
  })

  it("accepts the 999 valid events of a thousand with one bad", async () => {
    const events = Array.from({ length: 1000 }, (_, i) => ({
      type: "identify",
      userId: `t${i}`,
      messageId: `thousand-${i}`,
      traits: { email: `t${i}@example.com`, thousand: i === 500 ? "yes" : true },
      context: { personas: { computation_key: "thousand" } }
    }))
    const response = await SELF.fetch("https://worker.test/v1/batch", {
      method: "POST",
      body: JSON.stringify({ batch: events }),
      headers: { "content-type": "application/json", authorization: `Bearer ${env.INGEST_TOKEN}` }
    })
    expect(await response.json()).toEqual({ accepted: 999, rejected: [{ index: 500, reason: "membership traits.thousand must be a boolean, got \"yes\"" }] })
  })

  it("serves none of the sandbox's control routes, whatever the credentials", async () => {
    for (const [path, method] of [["/__sandbox/reset", "POST"], ["/__sandbox/snapshot", "GET"], ["/__sandbox/clock", "POST"], ["/__sandbox/faults", "POST"]] as const) {
      for (const authorization of [`Bearer ${env.ADMIN_TOKEN}`, `Bearer ${env.INGEST_TOKEN}`, undefined]) {
        const response = await SELF.fetch(`https://worker.test${path}`, { method, ...(authorization === undefined ? {} : { headers: { authorization } }), ...(method === "POST" ? { body: "{}" } : {}) })
        expect([401, 404]).toContain(response.status)
        expect(await response.text()).not.toMatch(/"lists"|"config"/)
      }
    }
  })
})
