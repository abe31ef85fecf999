// `npm start` hands the local worker every setting of the README's configuration table that is set
// in the environment (scripts/WorkerVars.ts), inside workerd with the worker reading them.
import { env } from "cloudflare:test"
import { describe, expect, it } from "vitest"
import readme from "../../README.md?raw"
import { localDefaults, settingNames, workerVars } from "../../scripts/WorkerVars.js"
import worker from "../../workers/index.js"
import type { WorkerEnv } from "../../workers/WorkerEnv.js"

const sandboxUrl = "http://127.0.0.1:8788"

describe("npm start's settings", () => {
  it("knows every setting of the README's configuration table, in its order", () => {
    const section = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("\n## ", readme.indexOf("## Configuration") + 1))
    const table = [...section.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1])
    expect(table.length).toBeGreaterThan(10)
    expect(table).toEqual([...settingNames])
  })

  it("passes each setting set in the environment; tokens and the sandbox's client keep their local values", () => {
    const everything = Object.fromEntries(settingNames.map((name) => [name, `value of ${name}`]))
    expect(workerVars(everything, sandboxUrl)).toEqual({
      ...everything,
      MARKETO_ENDPOINT: sandboxUrl,
      MARKETO_CLIENT_ID: "local-client-id",
      MARKETO_CLIENT_SECRET: "local-client-secret"
    })
    // Nothing set: the local credentials, and the sandbox; the worker's defaults do the rest.
    expect(workerVars({ PATH: "/usr/bin", HOME: "/root", MARKETO_DAILY_QUOTA: " " }, sandboxUrl)).toEqual({
      ...localDefaults,
      MARKETO_ENDPOINT: sandboxUrl,
      MARKETO_CLIENT_ID: "local-client-id",
      MARKETO_CLIENT_SECRET: "local-client-secret"
    })
    // A real Marketo: its endpoint and client from the environment.
    expect(workerVars({ MARKETO_ENDPOINT: "https://123-abc-456.mktorest.com", MARKETO_CLIENT_ID: "id", MARKETO_CLIENT_SECRET: "secret" }, undefined)).toEqual({
      ...localDefaults,
      MARKETO_ENDPOINT: "https://123-abc-456.mktorest.com",
      MARKETO_CLIENT_ID: "id",
      MARKETO_CLIENT_SECRET: "secret"
    })
  })

  it("MARKETO_CALLS_PER_20S=20 npm start runs a worker with 20, not the default 50 (and MAX_AUDIENCES likewise)", async () => {
    const started = { ...env, ...workerVars({ MARKETO_CALLS_PER_20S: "20", MAX_AUDIENCES: "7" }, env.MARKETO_ENDPOINT) } as WorkerEnv
    const status = await worker.fetch(new Request("https://worker.test/admin/status", { headers: { authorization: `Bearer ${localDefaults.ADMIN_TOKEN}` } }), started)
    expect(await status.json()).toMatchObject({ configuration: { ok: true }, limits: { callsPer20s: 20, maxAudiences: 7 } })
  })
})
