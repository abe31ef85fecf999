// A short fault soak of the real worker in workerd against the sandbox (docs/reliability.md): a
// fixed seed, about 35 s of faults while events flow (storms of one refusal, so that a pause lasts 20 s), then the drain and every invariant.
import { describe, expect, it } from "vitest"
import { runSoak } from "./Soak.js"
import { bundleWorker } from "./WorkerHost.js"

process.env["WRANGLER_SEND_METRICS"] = "false"
process.env["CLOUDFLARE_CF_FETCH_ENABLED"] = "false"
process.env["WRANGLER_HIDE_BANNER"] = "true"

describe("fault soak", () => {
  it("ends with every list exact, no 606/615 of its own, the budget kept, no call with a token known bad and no secret in any output", async () => {
    const report = await runSoak({ seconds: 35, seed: 11, drainSeconds: 90, maxStorm: 1 })
    console.log(JSON.stringify(report))
    expect(report.scenarios).toBeGreaterThanOrEqual(3)
    expect(report.events.sent).toBeGreaterThan(0)
    expect(report.listsChecked).toBeGreaterThan(0)
    expect(report.mismatches).toEqual([])
    expect(report.own606).toBe(0)
    expect(report.own615).toBe(0)
    expect(report.maxCallsIn20s).toBeLessThanOrEqual(report.callsPerWindowAllowed)
    expect(report.expiredTokenCallsBeyondDiscovery).toBe(0)
    expect(report.drained).toBe(true)
    expect(report.outputsScanned).toBeGreaterThan(100)
    expect(report.secretsInOutputs).toEqual([])
    expect(report.failures).toEqual([])
    expect(report.ok).toBe(true)
  }, 240_000)

  it("deploys none of the sandbox: the bundle `wrangler deploy` uploads holds no control route and no Marketo model", () => {
    const bundle = bundleWorker()
    expect(bundle.length).toBeGreaterThan(100_000)
    expect(bundle).toContain("/v1/batch")
    expect(bundle).not.toContain("__sandbox")
    expect(bundle).not.toContain("SandboxModel")
  }, 60_000)
})
