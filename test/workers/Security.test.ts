// What a web page the admin visits could do with the browser's credentials (cross-site request
// forgery, framing), and settings an attacker could turn against the admin: a shared ingest and
// admin token, a status page link that is not an https origin. Inside workerd.
import { createExecutionContext, createScheduledController, env, SELF, waitOnExecutionContext } from "cloudflare:test"
import { describe, expect, it } from "vitest"
import { formToken } from "../../workers/CrossSite.js"
import worker from "../../workers/index.js"
import { sharedTokensProblem } from "../../workers/Settings.js"
import type { WorkerEnv } from "../../workers/WorkerEnv.js"

const base = "https://worker.test"
const basic = (password: string) => `Basic ${btoa(`admin:${password}`)}`
const call = (withEnv: WorkerEnv, method: string, path: string, headers: Record<string, string>, body?: string) =>
  worker.fetch(new Request(`${base}${path}`, { method, headers, ...(body === undefined ? {} : { body }) }), withEnv)
const tick = async () => {
  const ctx = createExecutionContext()
  await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/1 * * * *" }), env, ctx)
  await waitOnExecutionContext(ctx)
}
const sendOne = async (audience: string, email: string) => {
  const event = { type: "identify", userId: email, messageId: `sec-${email}`, traits: { email, [audience]: true }, context: { personas: { computation_key: audience } } }
  const response = await SELF.fetch(`${base}/v1/batch`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${env.INGEST_TOKEN}` },
    body: JSON.stringify({ batch: [event] })
  })
  expect(response.status).toBe(200)
}

describe("settings an attacker could use", () => {
  it("refuses the admin API and the status page while INGEST_TOKEN equals ADMIN_TOKEN, naming the problem", async () => {
    const shared = { ...env, INGEST_TOKEN: env.ADMIN_TOKEN } as WorkerEnv
    for (const [method, path, authorization] of [
      ["GET", "/admin/status", `Bearer ${env.ADMIN_TOKEN}`],
      ["GET", "/admin/audiences", `Bearer ${env.ADMIN_TOKEN}`],
      ["POST", "/admin/sync", `Bearer ${env.ADMIN_TOKEN}`],
      ["DELETE", "/admin/audiences/vip", `Bearer ${env.ADMIN_TOKEN}`],
      ["GET", "/", basic(env.ADMIN_TOKEN)]
    ] as const) {
      const response = await call(shared, method, path, { authorization })
      expect(response.status, `${method} ${path}`).toBe(503)
      const text = await response.text()
      expect(JSON.parse(text)).toEqual({ error: "the worker is not configured", configuration: [sharedTokensProblem] })
      expect(text).not.toContain(env.ADMIN_TOKEN)
    }
    // Without the shared token nothing changes: a wrong one is still a 401.
    expect((await call(shared, "GET", "/admin/status", { authorization: "Bearer nope" })).status).toBe(401)
    // The same secrets, told apart again: the admin API answers.
    expect((await call(env, "GET", "/admin/status", { authorization: `Bearer ${env.ADMIN_TOKEN}` })).status).toBe(200)
  })

  it("links lists to MARKETO_INSTANCE_URL only when it is an https origin", async () => {
    await sendOne("sec_link", "link@example.com")
    await tick()
    const page = async (url: string) =>
      (await call({ ...env, MARKETO_INSTANCE_URL: url } as WorkerEnv, "GET", "/", { authorization: basic(env.ADMIN_TOKEN) })).text()
    const hostile = await page("javascript:alert(document.domain)//")
    expect(hostile).not.toContain("javascript:")
    expect(hostile).not.toMatch(/<a /)
    expect(hostile).toContain("MARKETO_INSTANCE_URL must be an https origin like https://app-ab12.marketo.com (no path, query or user name)")
    const listed = await page("https://app-ab12.marketo.com")
    expect(listed).toMatch(/<a href="https:\/\/app-ab12\.marketo\.com\/#ST\d+A1">id \d+<\/a>/)
  })
})

describe("a web page the admin visits", () => {
  const bearer = { authorization: `Bearer ${env.ADMIN_TOKEN}` }
  const form = "application/x-www-form-urlencoded"
  const listNames = async () =>
    ((await (await fetch(`${env.MARKETO_ENDPOINT}/__sandbox/snapshot`)).json()) as { lists: Array<{ name: string }> }).lists.map((l) => l.name)
  const pageToken = async () => {
    const html = await (await SELF.fetch(`${base}/`, { headers: { authorization: basic(env.ADMIN_TOKEN) } })).text()
    return /<input type="hidden" name="form_token" value="([^"]+)">/.exec(html)![1]!
  }
  const foreign: ReadonlyArray<Record<string, string>> = [
    { "sec-fetch-site": "cross-site" },
    { "sec-fetch-site": "same-site" },
    { "sec-fetch-site": "cross-site", origin: base },
    { origin: "https://evil.example" },
    { origin: "null" }
  ]
  const writes: ReadonlyArray<readonly [string, string, string | undefined]> = [
    ["POST", "/admin/sync", undefined],
    ["POST", "/admin/audiences/csrf_vip/reconcile", ""],
    ["PUT", "/admin/audiences/csrf_vip/name", JSON.stringify({ name: "Renamed by a foreign page" })],
    ["DELETE", "/admin/audiences/csrf_vip?list=empty", undefined]
  ]

  it("cannot change anything: every state-changing request from another site or origin is refused with 403", async () => {
    await sendOne("csrf_vip", "vip@example.com")
    for (const [method, path, body] of writes) {
      for (const headers of foreign) {
        for (const authorization of [bearer.authorization, basic(env.ADMIN_TOKEN)]) {
          const response = await SELF.fetch(`${base}${path}`, { method, headers: { authorization, "content-type": form, ...headers }, ...(body === undefined ? {} : { body }) })
          expect(response.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(403)
          expect(((await response.json()) as { error: string }).error).toMatch(/^refused: the browser says this request comes from another (site|origin)/)
        }
      }
    }
    // Nothing ran: the first sync a script asks for folds the event that waited all along, into an
    // audience neither removed nor renamed.
    expect(await listNames()).not.toContain("csrf_vip")
    const sync = await SELF.fetch(`${base}/admin/sync`, { method: "POST", headers: bearer })
    expect(await sync.json()).toMatchObject({ inboxFolded: 1, audiences: [{ audience: "csrf_vip", added: 1 }] })
    expect(await listNames()).toContain("csrf_vip")
    // Reading is not refused (a foreign page cannot read the answer).
    expect((await SELF.fetch(`${base}/admin/status`, { headers: { ...bearer, "sec-fetch-site": "cross-site" } })).status).toBe(200)
  })

  it("lets scripts with Bearer and the page's own forms through; a browser's Basic credentials need the form's token", async () => {
    await sendOne("csrf_ok", "ok@example.com")
    // Scripts: Bearer without browser headers, or with their own origin or none, unchanged.
    expect((await SELF.fetch(`${base}/admin/sync`, { method: "POST", headers: bearer })).status).toBe(200)
    for (const headers of [{}, { "sec-fetch-site": "none" }, { origin: base }]) {
      const named = await SELF.fetch(`${base}/admin/audiences/csrf_ok/name`, { method: "PUT", headers: { ...bearer, ...headers }, body: JSON.stringify({ name: "csrf ok" }) })
      expect(named.status, JSON.stringify(headers)).toBe(200)
    }
    const usedToday = async () => ((await (await SELF.fetch(`${base}/admin/status`, { headers: bearer })).json()) as { budget: { usedToday: number } }).budget.usedToday
    const before = await usedToday()
    // Basic without the token, with a token too old, from the future, or made with another key: refused.
    const now = Date.now()
    const token = await pageToken()
    for (const body of [
      "",
      "form_token=",
      `form_token=${await formToken(env.ADMIN_TOKEN, now - 13 * 3_600_000)}`,
      `form_token=${await formToken(env.ADMIN_TOKEN, now + 3_600_000)}`,
      `form_token=${await formToken("another-key", now)}`,
      `form_token=${token}0`
    ]) {
      const refused = await SELF.fetch(`${base}/admin/audiences/csrf_ok/reconcile`, {
        method: "POST",
        headers: { authorization: basic(env.ADMIN_TOKEN), "content-type": form, "sec-fetch-site": "same-origin" },
        body
      })
      expect(refused.status, body).toBe(403)
      expect(((await refused.json()) as { error: string }).error).toContain("scripts send Authorization: Bearer ADMIN_TOKEN")
    }
    expect(await usedToday()).toBe(before)
    // The status page's own button: same origin, with the token it rendered. The list is read back.
    const own = await SELF.fetch(`${base}/admin/audiences/csrf_ok/reconcile`, {
      method: "POST",
      redirect: "manual",
      headers: { authorization: basic(env.ADMIN_TOKEN), "content-type": form, "sec-fetch-site": "same-origin", origin: base },
      body: `form_token=${token}`
    })
    expect(own.status).toBe(303)
    expect(await usedToday()).toBeGreaterThan(before)
  })

  it("cannot frame the page or read an answer, and the page allows no script, only its own style and forms posting to itself", async () => {
    const page = await SELF.fetch(`${base}/`, { headers: { authorization: basic(env.ADMIN_TOKEN) } })
    const policy = page.headers.get("content-security-policy") ?? ""
    expect(policy.split("; ")).toEqual(expect.arrayContaining(["default-src 'none'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"]))
    expect(page.headers.get("x-content-type-options")).toBe("nosniff")
    expect(page.headers.get("referrer-policy")).toBe("no-referrer")
    expect(page.headers.get("x-frame-options")).toBe("DENY")
    // The one style the policy allows is the page's own.
    const html = await page.text()
    const style = /<style>([^<]*)<\/style>/.exec(html)![1]!
    const digest = btoa(String.fromCharCode(...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(style)))))
    expect(policy).toContain(`style-src 'sha256-${digest}'`)
    expect(html).not.toContain("<script")
    // Every other answer, refusals included, carries the same framing and sniffing headers.
    for (const response of [await SELF.fetch(`${base}/`), await SELF.fetch(`${base}/admin/status`, { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } }), await SELF.fetch(`${base}/health`)]) {
      expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'")
      expect(response.headers.get("x-content-type-options")).toBe("nosniff")
      expect(response.headers.get("referrer-policy")).toBe("no-referrer")
      // No answer opens itself to other origins' scripts.
      expect(response.headers.get("access-control-allow-origin")).toBeNull()
      await response.body?.cancel()
    }
  })
})
