// The soak's checks on hand-made call logs: they must catch what they claim to catch.
import { describe, expect, it } from "vitest"
import type { CallRecord } from "../sandbox/SandboxModel.js"
import { callsBeyondDiscovery, listMismatches, maxCallsInWindow, ownRefusals } from "./Invariants.js"

const call = (at: number, outcome = "ok", extra: Partial<CallRecord> = {}): CallRecord => ({
  at, method: "GET", path: "/rest/v1/lists.json", endpoint: "GET /rest/v1/lists.json", status: 200, outcome, counted: outcome === "ok", ...extra
})

describe("soak invariants", () => {
  it("finds missing and extra emails case-insensitively, and accepts no list for an empty audience", () => {
    const desired = new Map([["a", new Set(["x@e.io", "y@e.io"])], ["b", new Set<string>()], ["c", new Set(["z@e.io"])]])
    expect(listMismatches(desired, [{ name: "a", members: ["X@e.io", "w@e.io"] }])).toEqual([
      { list: "a", missing: ["y@e.io"], extra: ["w@e.io"] },
      { list: "c", missing: ["z@e.io"], extra: [] }
    ])
  })

  it("counts only 606/615 that no fault rule injected", () => {
    expect(ownRefusals([call(1, "606", { injected: true }), call(2, "606"), call(3, "615"), call(4, "615", { injected: true })])).toEqual({ own606: 1, own615: 1 })
  })

  it("finds the busiest rolling 20 s, identity calls aside", () => {
    const log = [call(0), call(5_000), call(19_999), call(20_000), call(20_001), { ...call(20_002), path: "/identity/oauth/token" }]
    expect(maxCallsInWindow(log, 20_000).max).toBe(4)
  })

  it("counts calls that carried a token after a 601/602 answer for it had left the sandbox", () => {
    const log = [call(1, "ok", { token: 1 }), call(5, "601", { token: 1 }), call(5, "ok", { token: 2 }), call(9, "601", { token: 1 }), call(9, "ok", { token: 2 })]
    expect(callsBeyondDiscovery(log, new Map([[1, 6]])).map((c) => c.at)).toEqual([9])
  })
})
