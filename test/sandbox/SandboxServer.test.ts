// The HTTP shell on 127.0.0.1: control routes, transport faults, and the concurrency and rate
// rules under a burst, with exact counts.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest"
import { nextCentralMidnight } from "./CentralTime.js"
import { type SandboxServer, startSandboxServer } from "./server.js"
import { tokenUrl } from "./SandboxTestKit.js"

type Answer = { success: boolean; errors?: Array<{ code: string }>; result?: Array<Record<string, unknown>> }

describe("sandbox server", () => {
  let server: SandboxServer
  let token: string
  const control = async (route: string, body?: unknown) =>
    (await fetch(`${server.url}/__sandbox/${route}`, body === undefined ? {} : { method: "POST", body: JSON.stringify(body) })).json() as Promise<Record<string, unknown>>
  const api = (path: string, init: RequestInit = {}) => fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...init.headers } })
  const getToken = async () => ((await (await fetch(`${server.url}${tokenUrl()}`)).json()) as { access_token: string }).access_token

  beforeAll(async () => {
    server = await startSandboxServer({ port: 0, host: "127.0.0.1", config: { lists: [{ name: "seeded", members: ["ada@example.com"] }] } })
  })
  afterAll(() => server.close())
  beforeEach(async () => {
    await control("reset", {})
    token = await getToken()
  })

  it("listens on a random port of 127.0.0.1", () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`)
    expect(server.port).toBeGreaterThan(0)
  })

  it("moves its clock forward: the token then answers 602", async () => {
    expect(((await (await api("/rest/v1/lists.json")).json()) as Answer).success).toBe(true)
    const clock = await control("clock", { advanceMillis: 3_600_000 })
    expect(clock["offsetMillis"]).toBe(3_600_000)
    expect(((await (await api("/rest/v1/lists.json")).json()) as Answer).errors?.[0]?.code).toBe("602")
    expect((await control("clock"))["offsetMillis"]).toBe(3_600_000)
  })

  it("sets its clock to a given time or offset, and reports the window, the day's use and the next quota reset as of then", async () => {
    expect(((await (await api("/rest/v1/lists.json")).json()) as Answer).success).toBe(true)
    // 23:59:30 in Chicago on a day still to come (so the call just made lies before it, never
    // after, whatever day the test runs): the reset is 30 s away.
    const midnight = nextCentralMidnight(Date.now() + 86_400_000)
    const set = await control("clock", { now: new Date(midnight - 30_000).toISOString() })
    expect(Math.abs(Number(set["now"]) - (midnight - 30_000))).toBeLessThan(1_000)
    const before = await control("counters")
    expect(before["quotaResetsAt"]).toBe(midnight)
    expect(before["inWindow"]).toBe(0)
    await control("clock", { nowMillis: midnight + 5_000 })
    const after = await control("counters")
    expect(after["usedToday"]).toBe(0)
    expect(after["quotaResetsAt"]).toBe(nextCentralMidnight(midnight + 5_000))
    expect(after["quotaResetsAt"]).toBeGreaterThan(midnight + 22 * 3_600_000)
    expect((await control("clock", { offsetMillis: 0 }))["offsetMillis"]).toBe(0)
    expect((await control("counters"))["inWindow"]).toBe(1)
    expect((await control("clock", { advanceMillis: "soon" }))["error"]).toContain("advanceMillis must be a number")
    expect((await control("clock", {}))["error"]).toContain("give advanceMillis")
  })

  it("leaves URI limits to the model: 414 past 8 KiB on the REST API, 30 KB served on the Asset API", async () => {
    const long = await api(`/rest/v1/leads.json?filterType=email&filterValues=${"a".repeat(20_000)}`)
    expect(long.status).toBe(414)
    const asset = await api(`/rest/asset/v1/staticList/byName.json?name=${"a".repeat(30_000)}`)
    expect(asset.status).toBe(200)
    expect(((await asset.json()) as { warnings: Array<string> }).warnings).toEqual(["No assets found for the given search criteria."])
  })

  it("accepts only the client secret it was last given: the token issued before stays valid until revoked", async () => {
    expect((await control("client-secret", { clientSecret: "rotated" }))["ok"]).toBe(true)
    const refused = await fetch(`${server.url}${tokenUrl()}`)
    expect(refused.status).toBe(401)
    expect(await refused.json()).toEqual({ error: "invalid_client", error_description: "Bad client credentials" })
    expect(((await (await api("/rest/v1/lists.json")).json()) as Answer).success).toBe(true)
    await control("revoke-tokens", {})
    expect(((await (await api("/rest/v1/lists.json")).json()) as Answer).errors?.[0]?.code).toBe("601")
    expect((await fetch(`${server.url}${tokenUrl("local-client-id", "rotated")}`)).status).toBe(200)
    expect((await control("client-secret", {}))["error"]).toContain("give the new secret as clientSecret")
    await control("client-secret", { clientSecret: "local-client-secret" })
    expect((await fetch(`${server.url}${tokenUrl()}`)).status).toBe(200)
  })

  it("injects faults by route: 502 without JSON, a dropped connection, revoked tokens", async () => {
    await control("faults", { rules: [{ kind: "502", count: 1 }, { kind: "drop", count: 1 }] })
    const gateway = await api("/rest/v1/lists.json")
    expect(gateway.status).toBe(502)
    expect(gateway.headers.get("content-type")).not.toContain("json")
    await expect(api("/rest/v1/lists.json")).rejects.toThrow()
    await control("revoke-tokens", {})
    expect(((await (await api("/rest/v1/lists.json")).json()) as Answer).errors?.[0]?.code).toBe("601")
    const counters = await control("counters")
    expect(counters["byOutcome"]).toMatchObject({ "HTTP 502": 1, dropped: 1, "601": 1 })
    expect((counters["log"] as Array<{ at: number; endpoint: string }>).every((c) => typeof c.at === "number" && c.endpoint.includes(" /"))).toBe(true)
    expect((await control("faults", { rules: [{ kind: "nonsense" }] }))["error"]).toContain("unknown fault kind")
  })

  it("uses up the day's quota on /__sandbox/quota: 607 until midnight US Central, then calls again", async () => {
    expect(await control("quota", { usedToday: 50_000 })).toEqual({ ok: true, usedToday: 50_000 })
    expect(((await (await api("/rest/v1/lists.json")).json()) as Answer).errors?.[0]?.code).toBe("607")
    const { quotaResetsAt, now } = (await control("counters")) as { quotaResetsAt: number; now: number }
    await control("clock", { advanceMillis: quotaResetsAt - now + 1_000 })
    token = await getToken()
    expect(((await (await api("/rest/v1/lists.json")).json()) as Answer).success).toBe(true)
    expect((await control("quota", { usedToday: -1 }))["error"]).toContain("usedToday must be a number")
  })

  it("fails the next imports on /__sandbox/fail-imports, and refuses a count that is not a number", async () => {
    expect(await control("fail-imports", { count: 2 })).toEqual({ ok: true, count: 2 })
    expect(server.sandbox.state.failNextImports).toBe(2)
    expect((await control("fail-imports", { count: "x" }))["error"]).toContain("count must be a number")
    await control("fail-imports", { count: 0 })
    expect(server.sandbox.state.failNextImports).toBe(0)
  })

  it("does what a person does by hand on control routes: merge, delete and rename a list, fail import rows", async () => {
    expect(await control("fail-import-rows", { rate: 0.5, emails: ["Bad@x.io"] })).toEqual({ ok: true, rate: 0.5, emails: ["bad@x.io"] })
    expect((await control("fail-import-rows", { rate: 2 }))["error"]).toContain("rate must be")
    await control("fail-import-rows", { rate: 0 })
    const [ada] = server.sandbox.leadIdsOf("ada@example.com")
    const other = server.sandbox.addList("other", 1034, ["grace@example.com"])
    const [grace] = server.sandbox.leadIdsOf("grace@example.com")
    expect(await control("merge", { loserId: ada, winnerId: grace })).toEqual({ ok: true, winner: grace })
    expect(server.sandbox.members("seeded")).toEqual(["grace@example.com"])
    expect(await control("merge", { email: "nobody@x.io" })).toEqual({ ok: true, winner: null })
    expect(await control("rename-list", { id: other, to: "renamed" })).toEqual({ ok: true })
    expect(await control("delete-list", { name: "renamed" })).toEqual({ ok: true })
    expect(server.sandbox.snapshot().lists.map((l) => l.name)).toEqual(["seeded"])
    await control("reset", {})
  })

  it("shows configured lists in the snapshot and starts over on reset", async () => {
    await api("/rest/asset/v1/staticLists.json", { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: `name=fresh&folder=${encodeURIComponent("{\"id\":1034,\"type\":\"Folder\"}")}` })
    const before = (await control("snapshot")) as { lists: Array<{ name: string; members: Array<string> }> }
    expect(before.lists.map((l) => [l.name, l.members])).toEqual([["seeded", ["ada@example.com"]], ["fresh", []]])
    await control("reset", {})
    const after = (await control("snapshot")) as { lists: Array<{ name: string }> }
    expect(after.lists.map((l) => l.name)).toEqual(["seeded"])
  })

  it("with 150 allowed in flight and 1 s of latency, 200 concurrent calls give 100 ok, 50 × 606 and 50 × 615", async () => {
    // 615 is decided on arrival (50 beyond 150 in flight); the 150 admitted then meet the window
    // of 100 calls per 20 s one by one.
    await control("reset", { config: { maxConcurrency: 150 } })
    token = await getToken()
    await control("faults", { rules: [{ kind: "latency", rate: 1, millis: 1_000, pathPrefix: "/rest/" }] })
    const answers = await Promise.all(Array.from({ length: 200 }, async () => ((await (await api("/rest/v1/lists.json")).json()) as Answer)))
    const codes = answers.map((a) => a.errors?.[0]?.code ?? "ok")
    expect(codes.filter((c) => c === "ok")).toHaveLength(100)
    expect(codes.filter((c) => c === "606")).toHaveLength(50)
    expect(codes.filter((c) => c === "615")).toHaveLength(50)
    expect(server.sandbox.counters().inWindow).toBe(100)
    expect(server.sandbox.inFlight).toBe(0)
  }, 20_000)
})

describe("sandbox page", () => {
  it("renders folders, lists with member counts and members, and the latest calls, escaped", async () => {
    const server = await startSandboxServer({ port: 0, config: { lists: [{ name: "<b>list</b>", members: ["ada@example.com", "bob@example.com"] }] } })
    try {
      await fetch(`${server.url}${tokenUrl("local-client-id", "wrong")}`)
      const page = await fetch(`${server.url}/`)
      expect(page.headers.get("content-type")).toContain("text/html")
      const html = await page.text()
      expect(html).toContain("/Lead Database/Group Lists/Engage Audiences")
      expect(html).toContain("&#60;b&#62;list&#60;/b&#62; <small>id 1 · folder 1034 · 2 members</small>")
      expect(html).not.toContain("<b>list</b>")
      expect(html).toContain("ada@example.com, bob@example.com")
      expect(html).toMatch(/GET<\/td><td>\/identity\/oauth\/token<\/td><td>401<\/td>/)
    } finally {
      await server.close()
    }
  })
})
