// The model's limits and counting: what uses the window and the quota, 605 and 610, the quota's
// reset at midnight US Central, and the URI and per-call limits.
import { describe, expect, it } from "vitest"
import { SandboxModel } from "./SandboxModel.js"
import { caller, codeOf, folderRef } from "./SandboxTestKit.js"

describe("limits and counting", () => {
  it("does not count 601 answers or injected 604s against the window or the quota", () => {
    const m = new SandboxModel({ dailyQuota: 2 })
    const { call } = caller(m)
    m.setFaults([{ kind: "604", count: 3 }])
    for (let i = 0; i < 3; i++) expect(codeOf(call("GET", "/rest/v1/lists.json"))).toBe("604")
    m.handle({ method: "GET", url: "/rest/v1/lists.json", headers: { authorization: "Bearer forged" }, body: "" }, 0)
    expect(call("GET", "/rest/v1/lists.json").success).toBe(true)
    expect(call("GET", "/rest/v1/lists.json").success).toBe(true)
    expect(codeOf(call("GET", "/rest/v1/lists.json"))).toBe("607")
    expect(m.counters().usedToday).toBe(2)
  })

  it("counts a call refused with 606 or 615 against the day's quota, never the window (countRefusals, on by default)", () => {
    const busy = (m: SandboxModel) => m.refuseIfBusy({ method: "GET", url: "/rest/v1/lists.json", headers: {}, body: "" }, 0)
    for (const countRefusals of [true, false]) {
      const m = new SandboxModel({ callsPerWindow: 2, maxConcurrency: 1, countRefusals })
      const { call } = caller(m)
      expect(call("GET", "/rest/v1/lists.json").success).toBe(true)
      expect(call("GET", "/rest/v1/lists.json").success).toBe(true)
      expect(codeOf(call("GET", "/rest/v1/lists.json"))).toBe("606")
      m.inFlight = 1
      expect(busy(m)).toBeDefined()
      m.inFlight = 0
      expect(m.counters().usedToday).toBe(countRefusals ? 4 : 2)
      expect(m.counters().inWindow).toBe(2)
      expect(m.log.filter((c) => c.outcome === "606" || c.outcome === "615").map((c) => c.counted)).toEqual([countRefusals, countRefusals])
      // The window rolls as if the refusals had not been made.
      expect(call("GET", "/rest/v1/lists.json", undefined, 20_001).success).toBe(true)
    }
  })

  it("answers 605 for a known resource asked with the wrong method and 610 for an unknown one, neither counted", () => {
    const m = new SandboxModel()
    const { call } = caller(m)
    expect(codeOf(call("PUT", "/rest/v1/leads.json", {}))).toBe("605")
    expect(codeOf(call("GET", "/rest/v1/lists/7/leads/ismember.json/extra"))).toBe("610")
    expect(codeOf(call("DELETE", "/rest/asset/v1/staticLists.json"))).toBe("605")
    expect(m.counters().usedToday).toBe(1)
  })

  it("resets the daily quota at midnight US Central, not UTC", () => {
    // 28 Nov 2026: Chicago is UTC-6, so its midnight is 06:00 UTC.
    const beforeUtcMidnight = Date.UTC(2026, 10, 28, 23, 30)
    const afterUtcMidnight = Date.UTC(2026, 10, 29, 0, 10)
    const afterChicagoMidnight = Date.UTC(2026, 10, 29, 6, 0, 1)
    const m = new SandboxModel({ dailyQuota: 1 })
    const { call, renew } = caller(m, beforeUtcMidnight)
    expect(call("GET", "/rest/v1/lists.json").success).toBe(true)
    expect(codeOf(call("GET", "/rest/v1/lists.json", undefined, afterUtcMidnight))).toBe("607")
    renew(afterChicagoMidnight)
    expect(call("GET", "/rest/v1/lists.json", undefined, afterChicagoMidnight).success).toBe(true)
  })

  it("allows 65 KiB of URI on the Asset API but 8 KiB elsewhere, and 300 ids per membership check", () => {
    const m = new SandboxModel()
    const { call, raw } = caller(m)
    const long = "x".repeat(20_000)
    expect(raw("GET", `/rest/asset/v1/staticList/byName.json?name=${long}`).status).toBe(200)
    expect(raw("GET", `/rest/asset/v1/staticList/byName.json?name=${long.repeat(4)}`).status).toBe(414)
    expect(raw("GET", `/rest/v1/lists.json?name=${long}`).status).toBe(414)
    const list = call("POST", "/rest/asset/v1/staticLists.json", `name=L&folder=${folderRef(1034)}`).result![0]!["id"] as number
    const ids = Array.from({ length: 301 }, (_, i) => `id=${i + 1}`).join("&")
    expect(codeOf(call("GET", `/rest/v1/lists/${list}/leads/ismember.json?${ids}`))).toBe("1003")
    expect(codeOf(call("GET", `/rest/v1/lists/${list}/leads.json?batchSize=301`))).toBe("1003")
  })
})
