// Drift repair through the worker: a member removed by hand in Marketo comes back after reconcile.
import { createExecutionContext, createScheduledController, env, SELF, waitOnExecutionContext } from "cloudflare:test"
import { describe, expect, it } from "vitest"
import worker from "../../workers/index.js"

const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}` }
const tick = async () => {
  const ctx = createExecutionContext()
  await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/1 * * * *" }), env, ctx)
  await waitOnExecutionContext(ctx)
}
const marketo = async (path: string, init: RequestInit = {}) => {
  const token = ((await (await fetch(`${env.MARKETO_ENDPOINT}/identity/oauth/token?grant_type=client_credentials&client_id=local-client-id&client_secret=local-client-secret`)).json()) as { access_token: string }).access_token
  return (await fetch(`${env.MARKETO_ENDPOINT}${path}`, { ...init, headers: { authorization: `Bearer ${token}` } })).json() as Promise<{ result: Array<{ id: number; email?: string }> }>
}
/** Members of an audience, one email each, sent through the worker's ingest and synced by a tick. */
const syncAudience = async (key: string, emails: ReadonlyArray<string>) => {
  const events = emails.map((email, i) => ({
    type: "identify", userId: `${key}-${i}`, messageId: `${key}-${i}`, traits: { email, [key]: true }, context: { personas: { computation_key: key } }
  }))
  await SELF.fetch("https://worker.test/v1/batch", { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${env.INGEST_TOKEN}` }, body: JSON.stringify({ batch: events }) })
  await tick()
  return ((await (await SELF.fetch(`https://worker.test/admin/audiences/${key}`, { headers: admin })).json()) as { listId: number }).listId
}
const members = async (listId: number) => (await marketo(`/rest/v1/lists/${listId}/leads.json?fields=id,email`)).result.map((m) => m.email).sort()

describe("reconcile", () => {
  it("shows its cost, then puts a hand-edited list right", async () => {
    const listId = await syncAudience("drift_vip", ["r1@example.com", "r2@example.com"])
    expect(await members(listId)).toEqual(["r1@example.com", "r2@example.com"])
    const [lead] = (await marketo("/rest/v1/leads.json?filterType=email&filterValues=r2@example.com&fields=id,email")).result
    await marketo(`/rest/v1/lists/${listId}/leads.json?id=${lead!.id}`, { method: "DELETE" })
    expect(await members(listId)).toEqual(["r1@example.com"])

    const cost = await SELF.fetch("https://worker.test/admin/audiences/drift_vip/reconcile", { headers: admin })
    expect(await cost.json()).toMatchObject({ audience: "drift_vip", listId, calls: 1 })
    const run = await SELF.fetch("https://worker.test/admin/audiences/drift_vip/reconcile", { method: "POST", headers: admin })
    expect(await run.json()).toMatchObject({ membersRead: 1, calls: 1, missing: 1, unexpected: 0 })
    // The report stays with the audience, for the admin API and the status page.
    const after = await SELF.fetch("https://worker.test/admin/audiences/drift_vip/reconcile", { headers: admin })
    expect(await after.json()).toMatchObject({ calls: 1, lastReconcile: { membersRead: 1, missing: 1, unexpected: 0, strays: 0 } })
    expect(await (await SELF.fetch("https://worker.test/admin/audiences/drift_vip", { headers: admin })).json()).toMatchObject({ lastReconcile: { missing: 1 } })
    expect(await (await SELF.fetch("https://worker.test/", { headers: { authorization: `Basic ${btoa(`admin:${env.ADMIN_TOKEN}`)}` } })).text()).toContain("1 missing, 0 unexpected")
    await tick()
    expect(await members(listId)).toEqual(["r1@example.com", "r2@example.com"])
    expect((await SELF.fetch("https://worker.test/admin/audiences/drift_vip/reconcile", { method: "POST" })).status).toBe(401)
  })
})

describe("removing an audience", () => {
  it("empties its list when asked, then forgets it", async () => {
    const listId = await syncAudience("gone_vip", ["g1@example.com", "g2@example.com"])
    expect(await members(listId)).toEqual(["g1@example.com", "g2@example.com"])
    expect((await SELF.fetch("https://worker.test/admin/audiences/gone_vip?list=maybe", { method: "DELETE", headers: admin })).status).toBe(400)
    const removed = await SELF.fetch("https://worker.test/admin/audiences/gone_vip?list=empty", { method: "DELETE", headers: admin })
    expect(removed.status).toBe(200)
    await tick()
    await tick()
    expect(await members(listId)).toEqual([])
    expect((await SELF.fetch("https://worker.test/admin/audiences/gone_vip", { headers: admin })).status).toBe(404)
  })
})
