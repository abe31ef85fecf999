import { createExecutionContext, createScheduledController, env, SELF, waitOnExecutionContext } from "cloudflare:test"
import { describe, expect, it } from "vitest"
import worker from "../../workers/index.js"
import { hintFor } from "../../workers/Hints.js"
import { renderStatusPage } from "../../workers/StatusPage.js"

const basic = (password: string) => `Basic ${btoa(`admin:${password}`)}`

describe("status page", () => {
  it("asks a browser to sign in, and refuses the ingest token", async () => {
    const anonymous = await SELF.fetch("https://worker.test/")
    expect(anonymous.status).toBe(401)
    expect(anonymous.headers.get("www-authenticate")).toMatch(/^Basic /)
    expect((await SELF.fetch("https://worker.test/", { headers: { authorization: basic(env.INGEST_TOKEN) } })).status).toBe(401)
  })

  it("shows each audience with its list, counts, next plan and the day's calls", async () => {
    const events = [
      { type: "identify", userId: "s1", messageId: "sp1", traits: { email: "s1@example.com", status_vip: true }, context: { personas: { computation_key: "status_vip" } } },
      { type: "identify", userId: "s2", messageId: "sp2", traits: { status_vip: true }, context: { personas: { computation_key: "status_vip" } } }
    ]
    await SELF.fetch("https://worker.test/v1/batch", { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${env.INGEST_TOKEN}` }, body: JSON.stringify({ batch: events }) })
    const ctx = createExecutionContext()
    await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/1 * * * *" }), env, ctx)
    await waitOnExecutionContext(ctx)
    const page = await SELF.fetch("https://worker.test/", { headers: { authorization: basic(env.ADMIN_TOKEN) } })
    expect(page.status).toBe(200)
    expect(page.headers.get("content-type")).toContain("text/html")
    const html = await page.text()
    expect(html).toContain("status_vip")
    expect(html).toMatch(/on the list<\/dt><dd>1</)
    expect(html).toMatch(/members without email<\/dt><dd>1</)
    expect(html).toContain("up to date")
    // The last tick's storage operations, as the tick counted them.
    expect(html).toMatch(/Last tick [^<]*; storage: [1-9]\d* reads?, [1-9]\d* writes?, \d+ deletes?, [1-9]\d* lists?\./)
    expect(html).toContain("action=\"/admin/audiences/status_vip/reconcile\"")
    // The button's form post, with the token the page put in it, comes back to the page.
    const token = /<input type="hidden" name="form_token" value="([^"]+)">/.exec(html)?.[1]
    expect(token).toMatch(/^[0-9a-z]+\.[0-9a-f]{64}$/)
    const posted = await SELF.fetch("https://worker.test/admin/audiences/status_vip/reconcile", {
      method: "POST", redirect: "manual", headers: { authorization: basic(env.ADMIN_TOKEN), "content-type": "application/x-www-form-urlencoded" }, body: `form_token=${token}`
    })
    expect(posted.status).toBe(303)
    expect(posted.headers.get("location")).toBe("/")
    expect(html).toMatch(/Marketo calls today: <b>\d+<\/b> of 45000/)
    expect(html).toContain("Changes reach their lists within <b>5 min</b> (target 5 min)")
    for (const secret of [env.ADMIN_TOKEN, env.INGEST_TOKEN, env.INGEST_SECRET, env.MARKETO_CLIENT_SECRET]) expect(html).not.toContain(secret)
  })

  it("says what to do about an error, and escapes what it shows", () => {
    const html = renderStatusPage({
      now: 0,
      configuration: ["MARKETO_CLIENT_ID is not set"],
      audiences: [{
        key: "<script>" as never,
        audienceClass: "audience",
        listName: "<b>x</b>",
        desired: 1,
        synced: 0,
        withoutEmail: 0,
        refused: 0,
        pending: { add: 1, remove: 0 },
        pendingImports: [],
        lastError: { tag: "MarketoRejected", code: "709", message: "a list named \"x\" already exists outside folder", at: 0 }
      }]
    })
    expect(html).not.toContain("<script>")
    expect(html).toContain("&#60;b&#62;x&#60;/b&#62;")
    expect(html).toContain(hintFor({ tag: "MarketoRejected", code: "709" }))
    expect(html).toContain("MARKETO_CLIENT_ID is not set")
    expect(hintFor({ tag: "MarketoAuthError", code: "603" })).toMatch(/Access API and Lead Database/)
    expect(hintFor({ tag: "MarketoQuotaExhausted", code: "607" })).toMatch(/midnight US Central/)
    expect(hintFor({ tag: "MarketoRejected", code: "710" })).toMatch(/Group Lists/)
  })

  it("says when a list deleted in Marketo was made again, and counts the rows imports refused", () => {
    const html = renderStatusPage({
      now: 3_600_000,
      configuration: [],
      audiences: [{
        key: "vip" as never,
        audienceClass: "audience",
        listName: "vip",
        listId: 2001,
        desired: 6,
        synced: 6,
        withoutEmail: 0,
        refused: 1,
        importRowsFailed: 3,
        listReplaced: { previousListId: 1999, at: 0 },
        pending: { add: 0, remove: 0 },
        pendingImports: []
      }]
    })
    expect(html).toContain("List id 1999 was deleted in Marketo")
    expect(html).toContain("every member added back")
    expect(html).toContain("3 import rows refused, each sent again by upsert")
  })

  it("never shows a list check whose steps fail as merely running", () => {
    const view = {
      key: "vip" as never,
      audienceClass: "audience" as const,
      listName: "vip",
      listId: 2001,
      desired: 6,
      synced: 6,
      withoutEmail: 0,
      refused: 0,
      pending: { add: 0, remove: 0 },
      pendingImports: [],
      reconciling: true as const
    }
    const running = renderStatusPage({ now: 120_000, configuration: [], audiences: [view] })
    expect(running).toContain("<b>checking now</b> (the ticks carry it on)")
    const failing = renderStatusPage({
      now: 120_000,
      configuration: [],
      audiences: [{ ...view, reconcileFailing: { tag: "MarketoRejected", message: "paging <refused>", at: 60_000, times: 3 } }]
    })
    expect(failing).not.toContain("(the ticks carry it on)")
    expect(failing).toContain("its last step failed 3 times in a row (60 s ago): MarketoRejected: paging &#60;refused&#62;; it is tried again each tick")
  })
})
