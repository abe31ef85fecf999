// Leads arrive with their names, inside workerd against the sandbox: the settings (named when
// wrong, the same defaults in wrangler.toml and the code), names on every lead created, the check
// of the field names against describe2 kept in the Durable Object and shown by GET /admin/status
// and the status page, changed names sent with `always`, and lead partitions.
import { createExecutionContext, createScheduledController, env, waitOnExecutionContext } from "cloudflare:test"
import { Either } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { instanceStub } from "../../adapters/cloudflare/MarketoInstanceApi.js"
import worker from "../../workers/index.js"
import { defaults, marketoSettings } from "../../workers/Settings.js"
import type { WorkerEnv } from "../../workers/WorkerEnv.js"

const base = "https://worker.test"
let n = 0
const person = (audience: string, user: string, email: string | ReadonlyArray<string>, traits: Record<string, unknown>, member = true) => ({
  type: "identify",
  userId: user,
  messageId: `fields-${++n}`,
  timestamp: new Date(Date.UTC(2026, 10, 20) + n * 1000).toISOString(),
  traits: { ...traits, email, [audience]: member },
  context: { personas: { computation_key: audience, computation_class: "audience" } }
})
const call = async (withEnv: WorkerEnv, path: string, init: RequestInit = {}) =>
  worker.fetch(new Request(`${base}${path}`, init) as Request<unknown, IncomingRequestCfProperties>, withEnv)
const send = async (withEnv: WorkerEnv, events: ReadonlyArray<unknown>) => {
  const response = await call(withEnv, "/v1/batch", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${env.INGEST_TOKEN}` },
    body: JSON.stringify({ batch: events })
  })
  expect(response.status).toBe(200)
}
const tick = async (withEnv: WorkerEnv) => {
  const ctx = createExecutionContext()
  await worker.scheduled(createScheduledController({ scheduledTime: Date.now(), cron: "*/1 * * * *" }), withEnv, ctx)
  await waitOnExecutionContext(ctx)
}
const admin = async (withEnv: WorkerEnv, path: string) =>
  (await call(withEnv, path, { headers: { authorization: `Bearer ${env.ADMIN_TOKEN}` } })).json() as Promise<Record<string, unknown>>
const sandbox = async (path: string, init?: RequestInit) => (await fetch(`${env.MARKETO_ENDPOINT}/__sandbox/${path}`, init)).json()
const leads = async () =>
  new Map(((await sandbox("snapshot")) as { leads: Array<{ email: string; fields: Record<string, string>; partition?: string }> }).leads.map((l) => [l.email, l]))
const withVars = (vars: Record<string, string>): WorkerEnv => ({ ...env, ...vars })
const problemsOf = (vars: Record<string, string>) =>
  Either.match(marketoSettings(withVars(vars)), { onLeft: (p) => p, onRight: () => [] as ReadonlyArray<string> })

beforeAll(async () => {
  await sandbox("reset", { method: "POST", body: "{}" })
})
afterAll(async () => {
  await sandbox("reset", { method: "POST", body: JSON.stringify({ config: { partitions: [] } }) })
})

describe("lead field settings", () => {
  it("wrangler.toml's vars hold the documented defaults, and a blank value counts as not set", () => {
    expect(env.MARKETO_LEAD_FIELDS).toBe(defaults.leadFields)
    expect(env.MARKETO_LEAD_FIELDS_UPDATE).toBe(defaults.leadFieldsUpdate)
    const settings = Either.getOrThrow(marketoSettings(withVars({ MARKETO_LEAD_FIELDS: " ", MARKETO_PARTITION: "" })))
    expect(settings.leadFields).toEqual({
      mapping: [{ field: "firstName", traits: ["firstName"] }, { field: "lastName", traits: ["lastName"] }],
      update: "on-add"
    })
    expect(Either.getOrThrow(marketoSettings(withVars({ MARKETO_LEAD_FIELDS: "none", MARKETO_LEAD_FIELDS_UPDATE: "always", MARKETO_PARTITION: "Europe" }))).leadFields)
      .toEqual({ mapping: [], update: "always", partition: "Europe" })
  })

  it("names a wrong setting, and what is wrong with it", () => {
    expect(problemsOf({ MARKETO_LEAD_FIELDS: "firstName" })).toEqual(["MARKETO_LEAD_FIELDS is invalid: \"firstName\" is not a marketoField=trait pair"])
    expect(problemsOf({ MARKETO_LEAD_FIELDS_UPDATE: "sometimes" })).toEqual([
      "MARKETO_LEAD_FIELDS_UPDATE must be on-add (values go with the adds) or always (changed values are sent too)"
    ])
    expect(problemsOf({ MARKETO_PARTITION: "x".repeat(300) })).toEqual(["MARKETO_PARTITION must be at most 255 characters (a Marketo lead partition name)"])
  })
})

describe("lead fields end to end", () => {
  it("creates every lead with the member's names, every email of a member with several", async () => {
    await send(env, [
      person("lf_vip", "ada", ["ada@example.com", "ada@work.example.com"], { firstName: "Ada", lastName: "Lovelace, \"Countess\"" }),
      person("lf_vip", "alan", "alan@example.com", { firstName: " Alan ", lastName: "Turing" })
    ])
    await tick(env)
    const all = await leads()
    expect(all.get("ada@example.com")?.fields).toEqual({ firstName: "Ada", lastName: "Lovelace, \"Countess\"" })
    expect(all.get("ada@work.example.com")?.fields).toEqual({ firstName: "Ada", lastName: "Lovelace, \"Countess\"" })
    expect(all.get("alan@example.com")?.fields).toEqual({ firstName: "Alan", lastName: "Turing" })
    // The check is kept in the Durable Object and shown: both fields exist and are writable.
    const status = await admin(env, "/admin/status")
    expect(status["configuration"]).toEqual({ ok: true, problems: [] })
    expect(status["leadFields"]).toMatchObject({ update: "on-add", partition: null, check: { fields: ["firstName", "lastName"], unknown: [], readOnly: [] }, problems: [] })
  })

  it("a field Marketo does not know, or only it writes, is named on the status; the others still sync and the tick does not fail", async () => {
    const typo = withVars({ MARKETO_LEAD_FIELDS: "fristName=firstName,lastName=lastName,createdAt=signup_date" })
    await send(typo, [person("lf_typo", "grace", "grace@example.com", { firstName: "Grace", lastName: "Hopper", signup_date: "1906-12-09" })])
    await tick(typo)
    expect((await leads()).get("grace@example.com")?.fields).toEqual({ lastName: "Hopper" })
    const view = await admin(typo, "/admin/audiences/lf_typo")
    expect(view).toMatchObject({ synced: 1 })
    expect(view["lastError"]).toBeUndefined()
    const status = await admin(typo, "/admin/status")
    expect(status["configuration"]).toEqual({
      ok: false,
      problems: [
        "MARKETO_LEAD_FIELDS: fristName is not a lead field of this Marketo instance; it is not sent (Admin → Field Management lists the fields; use the REST API name)",
        "MARKETO_LEAD_FIELDS: createdAt is read-only in Marketo; it is not sent"
      ]
    })
    const page = await call(typo, "/", { headers: { authorization: `Basic ${btoa(`any:${env.ADMIN_TOKEN}`)}` } })
    expect(await page.text()).toContain("fristName is not a lead field of this Marketo instance")
    // The check was made once and kept: the next tick does not ask again.
    const stub = instanceStub(env.MARKETO_INSTANCE, env.MARKETO_ENDPOINT)
    const checkedAt = (await stub.getLeadFieldCheck())?.checkedAt
    const counters = async () => ((await sandbox("counters")) as { byEndpoint: Record<string, number> }).byEndpoint["GET /rest/v1/leads/describe2.json"] ?? 0
    const before = await counters()
    await tick(typo)
    expect(await counters()).toBe(before)
    expect((await stub.getLeadFieldCheck())?.checkedAt).toBe(checkedAt)
  })

  it("on-add leaves a changed name alone; always sends it, and never blanks a field an event leaves out", async () => {
    // Each test has its own storage: the member is added here.
    await send(env, [person("lf_change", "kat", "kat@example.com", { firstName: "Katherine", lastName: "Johnson" })])
    await tick(env)
    await send(env, [person("lf_change", "kat", "kat@example.com", { firstName: "Kathy" })])
    await tick(env)
    expect((await leads()).get("kat@example.com")?.fields).toEqual({ firstName: "Katherine", lastName: "Johnson" })
    const always = withVars({ MARKETO_LEAD_FIELDS_UPDATE: "always" })
    await tick(always)
    expect((await leads()).get("kat@example.com")?.fields).toEqual({ firstName: "Kathy", lastName: "Johnson" })
    expect(await admin(always, "/admin/audiences/lf_change")).toMatchObject({ synced: 1, pending: { add: 0, remove: 0 } })
  })

  it("with lead partitions: without MARKETO_PARTITION the audience's error says so (1009) and nothing is lost; with it the leads are created there", async () => {
    await sandbox("reset", { method: "POST", body: JSON.stringify({ config: { partitions: ["Europe"] } }) })
    await send(env, [person("lf_eu", "marie", "marie@example.com", { firstName: "Marie", lastName: "Curie" })])
    await tick(env)
    const failed = await admin(env, "/admin/audiences/lf_eu")
    expect(failed).toMatchObject({ lastError: { code: "1009" }, refused: 0, pending: { add: 1 } })
    const page = await call(env, "/", { headers: { authorization: `Basic ${btoa(`any:${env.ADMIN_TOKEN}`)}` } })
    expect(await page.text()).toContain("set MARKETO_PARTITION to the partition new leads belong to")
    const europe = withVars({ MARKETO_PARTITION: "Europe" })
    await tick(europe)
    expect((await leads()).get("marie@example.com")).toMatchObject({ partition: "Europe", fields: { firstName: "Marie", lastName: "Curie" } })
    expect(await admin(europe, "/admin/audiences/lf_eu")).toMatchObject({ synced: 1, pending: { add: 0 } })
  })
})
