// Settings an attacker could turn against the admin, inside workerd: a shared ingest and admin
// token, and a status page link that is not an https origin.
import { createExecutionContext, createScheduledController, env, SELF, waitOnExecutionContext } from "cloudflare:test"
import { describe, expect, it } from "vitest"
import worker from "../../workers/index.js"
import { sharedTokensProblem, type WorkerEnv } from "../../workers/Settings.js"

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
