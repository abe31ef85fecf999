// A short fault soak of the real worker in workerd against the sandbox (docs/reliability.md),
// bounded by its work, not by time: six scenarios drawn from seed 47 (storms of one refusal, so
// that a pause lasts 20 s), then the drain (at most 60 ticks) and every invariant. The seed alone
// decides the scenarios' faults, events and ticks, so each assertion holds whatever the machine's
// speed: a slower machine takes longer over the same work.
import { describe, expect, it } from "vitest"
import { runSoak } from "./Soak.js"
import { bundleWorker } from "./WorkerHost.js"

process.env["WRANGLER_SEND_METRICS"] = "false"
process.env["CLOUDFLARE_CF_FETCH_ENABLED"] = "false"
process.env["WRANGLER_HIDE_BANNER"] = "true"

const scenarios = 6

describe("fault soak", () => {
  it("ends with every list exact, no 606/615 of its own, the budget kept, no call with a token known bad and no secret in any output", async () => {
    const report = await runSoak({ scenarios, seed: 47, drainTicks: 60, maxStorm: 1 })
    console.log(JSON.stringify(report))
    expect(report.boundBy).toBe("scenarios")
    expect(report.scenarios).toBe(scenarios)
    // Every event generated was delivered at least once (duplicates come on top).
    expect(report.events.generated).toBeGreaterThan(0)
    expect(report.events.sent).toBeGreaterThanOrEqual(report.events.generated)
    // Each scenario ran at least one tick before the drain.
    expect(report.ticks.run - report.ticks.drain).toBeGreaterThanOrEqual(scenarios)
    expect(report.listsChecked).toBeGreaterThan(0)
    expect(report.mismatches).toEqual([])
    expect(report.own606).toBe(0)
    expect(report.own615).toBe(0)
    expect(report.maxCallsIn20s).toBeLessThanOrEqual(report.callsPerWindowAllowed)
    expect(report.expiredTokenCallsBeyondDiscovery).toBe(0)
    expect(report.drained).toBe(true)
    // Searched, at the least: the answer to each batch of events, each scenario's status read, the
    // status and audiences read after each drain tick, and the three pages at the end (the worker's
    // log lines and any answered retries come on top).
    expect(report.outputsScanned).toBeGreaterThanOrEqual(report.events.batches + report.scenarios + 2 * report.ticks.drain + 3)
    expect(report.secretsInOutputs).toEqual([])
    expect(report.failures).toEqual([])
    expect(report.ok).toBe(true)
  }, 480_000)

  it("deploys none of the sandbox: the bundle `wrangler deploy` uploads holds no control route and no Marketo model", () => {
    const bundle = bundleWorker()
    expect(bundle.length).toBeGreaterThan(100_000)
    expect(bundle).toContain("/v1/batch")
    expect(bundle).not.toContain("__sandbox")
    expect(bundle).not.toContain("SandboxModel")
  }, 60_000)
})
