// The model's faults and control: imports failed on demand, injected answers marked in the log,
// rules by endpoint, 502, drops and revocation, identity left alone, counters, reset and clock.
import { describe, expect, it } from "vitest"
import { SandboxModel } from "./SandboxModel.js"
import { caller, codeOf, importInto, parse, tokenUrl } from "./SandboxTestKit.js"

describe("faults and control", () => {
  it("fails the next N imports whatever their rows (failImports), then imports again", () => {
    const m = new SandboxModel({ lists: [{ name: "L" }], importQueuedMillis: 0, importRunningMillis: 10, importRunningMillisPerRow: 0 })
    const { call, token } = caller(m)
    const list = call("GET", "/rest/v1/lists.json?name=L").result![0]!["id"] as number
    m.failImports(1)
    expect(m.state.failNextImports).toBe(1)
    const failed = importInto(m, token(), "email\r\nfine@example.com\r\n", 0, list).result![0]!["batchId"] as number
    expect(call("GET", `/bulk/v1/leads/batch/${failed}.json`, undefined, 20).result?.[0]?.["status"]).toBe("Failed")
    expect(m.members("L")).toEqual([])
    const next = importInto(m, token(), "email\r\nfine@example.com\r\n", 30, list).result![0]!["batchId"] as number
    expect(call("GET", `/bulk/v1/leads/batch/${next}.json`, undefined, 60).result?.[0]?.["status"]).toBe("Complete")
    expect(m.members("L")).toEqual(["fine@example.com"])
  })

  it("marks answers from fault rules as injected and names each call's token by its ordinal, never its value", () => {
    const m = new SandboxModel()
    const { call, renew, token } = caller(m)
    m.setFaults([{ kind: "606", count: 1 }, { kind: "revoke", count: 1 }])
    expect(codeOf(call("GET", "/rest/v1/lists.json"))).toBe("606")
    expect(codeOf(call("GET", "/rest/v1/lists.json"))).toBe("601")
    renew()
    expect(call("GET", "/rest/v1/lists.json").success).toBe(true)
    const calls = m.log.filter((c) => !c.path.startsWith("/identity/"))
    expect(calls.map((c) => [c.outcome, c.injected ?? false, c.token])).toEqual([["606", true, 1], ["601", true, 1], ["ok", false, 2]])
    expect(JSON.stringify(m.log)).not.toContain(token())
  })

  it("hits the next N calls of one endpoint only, answers 502 without JSON, drops, and revokes every token", () => {
    const m = new SandboxModel()
    const { call, raw, renew } = caller(m)
    m.setFaults([{ kind: "608", count: 2, pathPrefix: "/rest/v1/leads" }])
    expect(call("GET", "/rest/v1/lists.json").success).toBe(true)
    expect(codeOf(call("GET", "/rest/v1/leads.json?filterType=email&filterValues=a@x.io"))).toBe("608")
    expect(codeOf(call("GET", "/rest/v1/leads.json?filterType=email&filterValues=a@x.io"))).toBe("608")
    expect(call("GET", "/rest/v1/leads.json?filterType=email&filterValues=a@x.io").success).toBe(true)
    m.setFaults([{ kind: "502", count: 1 }, { kind: "drop", count: 1 }])
    const gateway = raw("GET", "/rest/v1/lists.json")
    expect(gateway.status).toBe(502)
    expect(() => JSON.parse(gateway.body)).toThrow()
    expect(raw("GET", "/rest/v1/lists.json").drop).toBe(true)
    m.setFaults([{ kind: "revoke", count: 1 }])
    expect(codeOf(call("GET", "/rest/v1/lists.json"))).toBe("601")
    expect(codeOf(call("GET", "/rest/v1/lists.json"))).toBe("601")
    renew()
    expect(call("GET", "/rest/v1/lists.json").success).toBe(true)
    // Three calls and two token requests went through.
    expect(m.counters().byOutcome).toEqual({ ok: 5, "608": 2, "HTTP 502": 1, dropped: 1, "601": 2 })
  })

  it("leaves identity alone unless a rule names it, and reads header names in any case", () => {
    const m = new SandboxModel()
    m.setFaults([{ kind: "611", count: 5 }, { kind: "502", count: 1, pathPrefix: "/identity/" }])
    const get = () => m.handle({ method: "GET", url: tokenUrl(), headers: {}, body: "" }, 0)
    expect(get().status).toBe(502)
    const token = parse(get()).access_token!
    expect(codeOf(parse(m.handle({ method: "GET", url: "/rest/v1/lists.json", headers: { Authorization: `Bearer ${token}` }, body: "" }, 0)))).toBe("611")
  })

  it("counts by endpoint with ids folded, resets in place, and moves its clock forward", () => {
    const m = new SandboxModel({ lists: [{ name: "L" }] })
    const { call } = caller(m)
    call("GET", "/rest/v1/lists/1.json")
    call("GET", "/rest/v1/lists/2.json")
    expect(m.counters().byEndpoint).toMatchObject({ "GET /rest/v1/lists/{id}.json": 2, "GET /identity/oauth/token": 1 })
    expect(m.counters().byEndpointAndOutcome["GET /rest/v1/lists/{id}.json"]).toEqual({ ok: 1, "1013": 1 })
    m.advanceClock(3_600_000)
    expect(codeOf(call("GET", "/rest/v1/lists.json"))).toBe("602")
    m.reset()
    expect(m.clockOffsetMillis).toBe(0)
    expect(m.log).toEqual([])
    expect(m.snapshot().lists.map((l) => l.name)).toEqual(["L"])
  })
})
