// The sandbox behaves like Marketo: tokens, limits, codes, membership, imports, faults.
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { importTimings } from "./SandboxConfig.js"
import { SandboxModel, type SandboxRequest } from "./SandboxModel.js"
import { startSandboxServer, type SandboxServer } from "./server.js"

const enc = new TextEncoder()
const req = (method: string, url: string, body: unknown = undefined, headers: Record<string, string> = {}): SandboxRequest => ({
  method,
  url,
  headers: { "content-type": typeof body === "string" ? "application/x-www-form-urlencoded" : "application/json", ...headers },
  body: body === undefined ? new Uint8Array() : enc.encode(typeof body === "string" ? body : JSON.stringify(body))
})
const parse = (r: { body: string }) => JSON.parse(r.body) as { success?: boolean; errors?: Array<{ code: string }>; result?: Array<Record<string, unknown>>; access_token?: string; expires_in?: number; warnings?: Array<string> }
const tokenOf = (m: SandboxModel, now: number) => parse(m.handle(req("GET", "/identity/oauth/token?grant_type=client_credentials&client_id=local-client-id&client_secret=local-client-secret"), now)).access_token!
const authed = (m: SandboxModel, now: number) => {
  const token = tokenOf(m, now)
  return (method: string, url: string, body?: unknown, at = now) => parse(m.handle(req(method, url, body, { authorization: `Bearer ${token}` }), at))
}
const code = (r: ReturnType<typeof parse>) => r.errors?.[0]?.code

describe("sandbox model", () => {
  it("returns the same token until it expires, then 602 for calls that still use it", () => {
    const m = new SandboxModel()
    const a = tokenOf(m, 0)
    expect(tokenOf(m, 1_000_000)).toBe(a)
    expect(parse(m.handle(req("POST", "/identity/oauth/token", "grant_type=client_credentials&client_id=local-client-id&client_secret=local-client-secret"), 0)).access_token).toBe(a)
    expect(parse(m.handle(req("GET", "/rest/v1/lists.json", undefined, { authorization: `Bearer ${a}` }), 3_600_000))).toMatchObject({ success: false, errors: [{ code: "602" }] })
    expect(tokenOf(m, 3_600_000)).not.toBe(a)
    expect(m.handle(req("GET", "/identity/oauth/token?grant_type=client_credentials&client_id=x&client_secret=y"), 0).status).toBe(401)
  })

  it("refuses the 101st call within a rolling 20 s with 606, and accepts again when the window rolls", () => {
    const m = new SandboxModel()
    const call = authed(m, 0)
    for (let i = 0; i < 100; i++) expect(call("GET", "/rest/v1/lists.json", undefined, i * 10).success).toBe(true)
    expect(code(call("GET", "/rest/v1/lists.json", undefined, 19_999))).toBe("606")
    expect(call("GET", "/rest/v1/lists.json", undefined, 20_001).success).toBe(true)
  })

  it("stops at the daily quota with 607, and identity calls never count", () => {
    const m = new SandboxModel({ dailyQuota: 3 })
    const call = authed(m, 0)
    for (let i = 0; i < 5; i++) tokenOf(m, 0)
    for (let i = 0; i < 3; i++) expect(call("GET", "/rest/v1/lists.json").success).toBe(true)
    expect(code(call("GET", "/rest/v1/lists.json"))).toBe("607")
  })

  it("answers 414 for a URI over 8 KB, 413 for a body over 1 MB, an error for more than 300 records", () => {
    const m = new SandboxModel()
    const token = tokenOf(m, 0)
    const h = { authorization: `Bearer ${token}` }
    expect(m.handle(req("GET", `/rest/v1/leads.json?filterType=email&filterValues=${"a".repeat(8200)}`, undefined, h), 0).status).toBe(414)
    expect(m.handle(req("POST", "/rest/v1/leads.json", { input: [{ email: "x".repeat(1_100_000) }] }, h), 0).status).toBe(413)
    expect(code(parse(m.handle(req("POST", "/rest/v1/leads.json", { input: Array.from({ length: 301 }, (_, i) => ({ email: `${i}@x.io` })) }, h), 0)))).toBe("1003")
  })

  it("creates lists in folders with 709/710/711, and membership with 1004/1013/1015", () => {
    const m = new SandboxModel({ folders: [{ id: 1, name: "F", type: "Folder", path: "/F" }, { id: 2, name: "P", type: "Program", path: "/P" }] })
    const call = authed(m, 0)
    const created = call("POST", "/rest/asset/v1/staticLists.json", "name=L&folder=" + encodeURIComponent("{\"id\":1,\"type\":\"Folder\"}"))
    expect(created.result?.[0]).toMatchObject({ name: "L", folder: { id: 1, type: "Folder" } })
    expect(code(call("POST", "/rest/asset/v1/staticLists.json", "name=l&folder=" + encodeURIComponent("{\"id\":1,\"type\":\"Folder\"}")))).toBe("709")
    expect(code(call("POST", "/rest/asset/v1/staticLists.json", "name=M&folder=" + encodeURIComponent("{\"id\":9,\"type\":\"Folder\"}")))).toBe("710")
    expect(code(call("POST", "/rest/asset/v1/staticLists.json", "name=M&folder=" + encodeURIComponent("{\"id\":2,\"type\":\"Program\"}")))).toBe("711")
    expect(call("GET", "/rest/asset/v1/staticList/byName.json?name=Nope").warnings).toEqual(["No assets found for the given search criteria."])
    const listId = created.result?.[0]?.["id"] as number
    const lead = call("POST", "/rest/v1/leads.json", { action: "createOrUpdate", lookupField: "email", input: [{ email: "Ada@Example.com" }] }).result?.[0]?.["id"] as number
    expect(call("POST", `/rest/v1/lists/${listId}/leads.json`, { input: [{ id: lead }, { id: 424242 }] }).result).toEqual([{ id: lead, status: "added" }, { id: 424242, status: "skipped", reasons: [{ code: "1004", message: "Lead not found" }] }])
    expect(call("DELETE", `/rest/v1/lists/${listId}/leads.json?id=${lead}&id=${lead}`).result?.map((r) => r["status"])).toEqual(["removed", "skipped"])
    expect(code(call("POST", "/rest/v1/lists/999/leads.json", { input: [{ id: lead }] }))).toBe("1013")
    // Email matching is case-insensitive.
    expect(call("GET", "/rest/v1/leads.json?filterType=email&filterValues=ADA@example.COM&fields=id,email").result).toEqual([{ id: lead, email: "Ada@Example.com" }])
  })

  it("runs imports through Queued, Importing and Complete with time, and lists their warnings", () => {
    const m = new SandboxModel(importTimings("fast"))
    const call = authed(m, 0)
    const listId = m.addList("imports", 1034)
    const token = tokenOf(m, 0)
    const body = "--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"l.csv\"\r\nContent-Type: text/csv\r\n\r\nemail\r\na@x.io\r\nnot-an-email\r\n\r\n--B--\r\n"
    const started = parse(m.handle({ method: "POST", url: `/bulk/v1/leads.json?format=csv&lookupField=email&listId=${listId}`, headers: { authorization: `Bearer ${token}`, "content-type": "multipart/form-data; boundary=B" }, body: enc.encode(body) }, 0))
    const batchId = started.result?.[0]?.["batchId"] as number
    expect(started.result?.[0]?.["status"]).toBe("Queued")
    expect(call("GET", `/bulk/v1/leads/batch/${batchId}.json`, undefined, 3_000).result?.[0]?.["status"]).toBe("Importing")
    expect(m.members("imports")).toEqual([])
    expect(call("GET", `/bulk/v1/leads/batch/${batchId}.json`, undefined, 8_000).result?.[0]).toMatchObject({ status: "Complete", numOfRowsWithWarning: 1 })
    expect(m.members("imports")).toEqual(["a@x.io"])
    expect(m.handle(req("GET", `/bulk/v1/leads/batch/${batchId}/warnings.json`, undefined, { authorization: `Bearer ${token}` }), 8_000).body).toContain("not-an-email,Invalid email address")
  })

  it("injects the same faults for the same seed", () => {
    const outcomes = (seed: number) => {
      const m = new SandboxModel({}, seed)
      m.setFaults([{ kind: "604", rate: 0.3 }, { kind: "606", rate: 0.2 }])
      const call = authed(m, 0)
      return Array.from({ length: 40 }, (_, i) => code(call("GET", "/rest/v1/lists.json", undefined, i * 1000)) ?? "ok")
    }
    expect(outcomes(7)).toEqual(outcomes(7))
    expect(outcomes(7)).not.toEqual(outcomes(8))
    expect(outcomes(7)).toContain("604")
  })
})

describe("sandbox server on 127.0.0.1", () => {
  let server: SandboxServer
  let token: string
  beforeAll(async () => {
    server = await startSandboxServer({ port: 0 })
    token = ((await (await fetch(`${server.url}/identity/oauth/token?grant_type=client_credentials&client_id=local-client-id&client_secret=local-client-secret`)).json()) as { access_token: string }).access_token
  })
  afterAll(() => server.close())

  it("gives exactly the 615s and 606s Marketo would: 200 concurrent calls, then a burst past the window", async () => {
    const fire = () => fetch(`${server.url}/rest/v1/lists.json`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.json() as Promise<{ success: boolean; errors?: Array<{ code: string }> }>)
    // A second of latency holds the first ten in flight while all 200 arrive.
    server.sandbox.setFaults([{ kind: "latency", rate: 1, millis: 1_000, pathPrefix: "/rest/" }])
    const concurrent = await Promise.all(Array.from({ length: 200 }, fire))
    server.sandbox.setFaults([])
    expect(concurrent.filter((r) => r.success).length).toBe(10)
    expect(concurrent.filter((r) => r.errors?.[0]?.code === "615").length).toBe(190)
    // 10 calls used; 9 waves of 10 fill the window to 100; the 10th wave is refused with 606.
    const waves: Array<Array<{ success: boolean; errors?: Array<{ code: string }> }>> = []
    for (let w = 0; w < 10; w++) waves.push(await Promise.all(Array.from({ length: 10 }, fire)))
    expect(waves.slice(0, 9).flat().every((r) => r.success)).toBe(true)
    expect(waves[9]!.map((r) => r.errors?.[0]?.code)).toEqual(Array(10).fill("606"))
  }, 30_000)

  it("shows folders, lists and calls on its page", async () => {
    server.sandbox.addList("page-list", 1034, ["ada@example.com"])
    const html = await (await fetch(`${server.url}/`)).text()
    expect(html).toContain("Engage Audiences")
    expect(html).toContain("page-list")
    expect(html).toContain("ada@example.com")
    expect(html).toContain("/rest/v1/lists.json")
  })
})
