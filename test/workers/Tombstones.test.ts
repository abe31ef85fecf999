// Removing an audience leaves a tombstone, inside workerd against the Marketo sandbox: a replayed
// body cannot bring the audience back, events already waiting are dropped by the fold, both are
// counted and shown, and newer events start the audience afresh.
import { createExecutionContext, createScheduledController, env, SELF, waitOnExecutionContext } from "cloudflare:test"
import { describe, expect, it } from "vitest"
import { hmacSha1Hex } from "../../workers/Auth.js"
import worker from "../../workers/index.js"

const base = "https://worker.test"
const admin = { authorization: `Bearer ${env.ADMIN_TOKEN}` }
const event = (audience: string, user: string, email: string, member: boolean, at: number) => ({
  type: "identify",
  userId: user,
  messageId: `${audience}-${user}-${email}-${member}-${at}`,
  timestamp: new Date(at).toISOString(),
  traits: { email, [audience]: member },
  context: { personas: { computation_key: audience } }
})
const sign = (body: string) => hmacSha1Hex(env.INGEST_SECRET, new TextEncoder().encode(body).buffer as ArrayBuffer)
const webhook = async (body: string) => {
  const response = await SELF.fetch(`${base}/webhook`, { method: "POST", body, headers: { "content-type": "application/json", "x-signature": await sign(body) } })
  return { status: response.status, body: await response.json() }
}
const send = async (events: ReadonlyArray<unknown>) => {
  const response = await SELF.fetch(`${base}/v1/batch`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${env.INGEST_TOKEN}` },
    body: JSON.stringify({ batch: events })
  })
  return { status: response.status, body: await response.json() }
}
const tick = async () => {
  const ctx = createExecutionContext()
  await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/1 * * * *" }), env, ctx)
  await waitOnExecutionContext(ctx)
}
const members = async (name: string) =>
  ((await (await fetch(`${env.MARKETO_ENDPOINT}/__sandbox/snapshot`)).json()) as { lists: Array<{ name: string; members: Array<string> }> })
    .lists.find((l) => l.name === name)?.members
const view = async (key: string) => {
  const response = await SELF.fetch(`${base}/admin/audiences/${key}`, { headers: admin })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}
const remove = (key: string, list: "keep" | "empty") => SELF.fetch(`${base}/admin/audiences/${key}?list=${list}`, { method: "DELETE", headers: admin })
const page = async () => (await SELF.fetch(`${base}/`, { headers: { authorization: `Basic ${btoa(`admin:${env.ADMIN_TOKEN}`)}` } })).text()

describe("removing an audience leaves a tombstone", () => {
  it("a replayed signed body after DELETE ?list=keep changes nothing; newer events start the audience afresh", async () => {
    const past = Date.now() - 3_600_000
    const captured = JSON.stringify([event("tomb_keep", "u1", "ann@example.com", true, past), event("tomb_keep", "u2", "ben@example.com", true, past)])
    expect(await webhook(captured)).toEqual({ status: 200, body: { accepted: 2, rejected: [] } })
    await tick()
    await send([event("tomb_keep", "u2", "ben@example.com", false, past + 60_000)])
    await tick()
    expect(await members("tomb_keep")).toEqual(["ann@example.com"])

    const removed = await remove("tomb_keep", "keep")
    expect(removed.status).toBe(200)
    const { removedAt } = (await removed.json()) as { removedAt: number }
    // The replay is answered as harmless (no retry) and stores nothing.
    expect(await webhook(captured)).toEqual({ status: 200, body: { accepted: 0, rejected: [], ignored: 2 } })
    await tick()
    expect(await members("tomb_keep")).toEqual(["ann@example.com"])
    expect(await view("tomb_keep")).toEqual({
      status: 404,
      body: {
        error: `no audience "tomb_keep": it was removed at ${new Date(removedAt).toISOString()}; events older than that are ignored`,
        removed: { at: removedAt, ignoredEvents: 2 }
      }
    })
    expect(await page()).toMatch(/Removed audiences.*<dt>tomb_keep<\/dt><dd>[^<]+ · 2 older events ignored since<\/dd>/s)

    // A newer event starts the audience afresh; the list it adopts is the kept one.
    expect((await send([event("tomb_keep", "u3", "cid@example.com", true, Date.now() + 60_000)])).body).toEqual({ accepted: 1, rejected: [] })
    await tick()
    expect(await members("tomb_keep")).toEqual(["ann@example.com", "cid@example.com"])
    expect(await view("tomb_keep")).toMatchObject({ status: 200, body: { desired: 1, synced: 1, removed: { at: removedAt, ignoredEvents: 2 } } })
    expect(await page()).toMatch(/<dt>removed<\/dt><dd>[^<]+ · 2 older events ignored since<\/dd>/)
  })

  it("events waiting in the inbox when the audience is removed are dropped by the fold, and counted", async () => {
    const now = Date.now()
    await send([event("tomb_inbox", "u1", "dee@example.com", true, now - 1000), event("tomb_inbox", "u2", "eve@example.com", true, now - 1000)])
    const removed = await remove("tomb_inbox", "keep")
    expect(removed.status).toBe(200)
    await tick()
    expect(await members("tomb_inbox")).toBeUndefined()
    expect(await view("tomb_inbox")).toMatchObject({ status: 404, body: { removed: { ignoredEvents: 2 } } })
    // A key the worker never saw has nothing to remove.
    expect((await remove("tomb_never", "keep")).status).toBe(404)
  })

  it("with ?list=empty, newer events wait until the list is emptied, then start the audience afresh", async () => {
    const now = Date.now()
    await send([event("tomb_empty", "u1", "fay@example.com", true, now - 5000), event("tomb_empty", "u2", "gus@example.com", true, now - 5000)])
    await tick()
    expect(await members("tomb_empty")).toEqual(["fay@example.com", "gus@example.com"])
    expect((await remove("tomb_empty", "empty")).status).toBe(200)
    await send([event("tomb_empty", "u3", "hal@example.com", true, Date.now() + 60_000)])
    await tick()
    await tick()
    expect(await members("tomb_empty")).toEqual(["hal@example.com"])
    expect(await view("tomb_empty")).toMatchObject({ status: 200, body: { desired: 1, synced: 1, removed: { ignoredEvents: 0 } } })
  })
})
