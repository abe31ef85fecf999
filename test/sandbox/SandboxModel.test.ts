// The model endpoint by endpoint: imports, limits, names, leads, paging, faults and control.
import { describe, expect, it } from "vitest"
import { SandboxModel, step } from "./SandboxModel.js"
import { caller, codeOf, folderRef, multipart, parse, tokenUrl } from "./SandboxTestKit.js"

const importInto = (m: SandboxModel, token: string, csv: string, at: number, listId?: number) => {
  const { contentType, body } = multipart(csv)
  return parse(m.handle({
    method: "POST",
    url: `/bulk/v1/leads.json?format=csv&lookupField=email${listId === undefined ? "" : `&listId=${listId}`}`,
    headers: { authorization: `Bearer ${token}`, "content-type": contentType },
    body
  }, at))
}

describe("identity", () => {
  it("accepts a POSTed form, says 3599 s for a fresh token and the remaining seconds after", () => {
    const m = new SandboxModel()
    const form = "grant_type=client_credentials&client_id=local-client-id&client_secret=local-client-secret"
    const first = parse(m.handle({ method: "POST", url: "/identity/oauth/token", headers: { "content-type": "application/x-www-form-urlencoded" }, body: form }, 0))
    expect(first.expires_in).toBe(3599)
    const later = parse(m.handle({ method: "GET", url: tokenUrl(), headers: {}, body: "" }, 600_000))
    expect(later).toMatchObject({ access_token: first.access_token, expires_in: 2999 })
    const bad = m.handle({ method: "POST", url: "/identity/oauth/token", headers: {}, body: form.replace("local-client-secret", "nope") }, 0)
    expect(bad.status).toBe(401)
    expect(JSON.parse(bad.body)).toEqual({ error: "invalid_client", error_description: "Bad client credentials" })
  })

  it("answers 601 without a bearer token, and for the deprecated access_token query parameter", () => {
    const m = new SandboxModel()
    const { token } = caller(m)
    expect(codeOf(parse(m.handle({ method: "GET", url: "/rest/v1/lists.json", headers: {}, body: "" }, 0)))).toBe("601")
    expect(codeOf(parse(m.handle({ method: "GET", url: `/rest/v1/lists.json?access_token=${token()}`, headers: {}, body: "" }, 0)))).toBe("601")
  })
})

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

describe("folders and lists", () => {
  const folders = [
    { id: 1034, name: "Engage Audiences", type: "Folder", path: "/Lead Database/Group Lists/Engage Audiences" },
    { id: 2001, name: "Engage Audiences", type: "Folder", path: "/Lead Database/Archive/Engage Audiences" },
    { id: 3001, name: "Engage Audiences", type: "Program", path: "/Marketing Activities/Engage Audiences" }
  ]

  it("finds every folder of a name, filtered by type case-insensitively, with the Asset API's empty errors and warnings", () => {
    const m = new SandboxModel({ folders })
    const { call } = caller(m)
    const all = call("GET", "/rest/asset/v1/folder/byName.json?name=Engage%20Audiences")
    expect(all.result?.map((f) => f["id"])).toEqual([1034, 2001, 3001])
    expect(all).toMatchObject({ errors: [], warnings: [] })
    expect(call("GET", "/rest/asset/v1/folder/byName.json?name=Engage%20Audiences&type=FOLDER").result?.map((f) => f["path"]))
      .toEqual(["/Lead Database/Group Lists/Engage Audiences", "/Lead Database/Archive/Engage Audiences"])
    const none = call("GET", "/rest/asset/v1/folder/byName.json?name=Nothing")
    expect(none).toEqual({ success: true, errors: [], requestId: none.requestId, warnings: ["No assets found for the given search criteria."] })
    // Failures on the Asset API carry warnings too.
    expect(call("POST", "/rest/asset/v1/staticLists.json", `name=X&folder=${folderRef(3001)}`)).toMatchObject({ success: false, errors: [{ code: "711" }], warnings: [] })
  })

  it("treats list names alike whatever their case by default, and exactly when configured", () => {
    const loose = caller(new SandboxModel())
    loose.call("POST", "/rest/asset/v1/staticLists.json", `name=Buyers&folder=${folderRef(1034)}`)
    expect(codeOf(loose.call("POST", "/rest/asset/v1/staticLists.json", `name=BUYERS&folder=${folderRef(1034)}`))).toBe("709")
    expect(loose.call("GET", "/rest/asset/v1/staticList/byName.json?name=buyers").result?.[0]?.["name"]).toBe("Buyers")
    const strict = caller(new SandboxModel({ caseSensitiveListNames: true }))
    strict.call("POST", "/rest/asset/v1/staticLists.json", `name=Buyers&folder=${folderRef(1034)}`)
    expect(strict.call("POST", "/rest/asset/v1/staticLists.json", `name=BUYERS&folder=${folderRef(1034)}`).success).toBe(true)
    expect(strict.call("GET", "/rest/asset/v1/staticList/byName.json?name=buyers").warnings).toEqual(["No assets found for the given search criteria."])
  })

  it("browses lists by folder with offset and maxReturn, reads one by id in both APIs, and deletes", () => {
    const m = new SandboxModel({ folders, lists: [{ name: "a" }, { name: "b" }, { name: "c" }, { name: "elsewhere", folderId: 2001 }] })
    const { call } = caller(m)
    const page = (offset: number) => call("GET", `/rest/asset/v1/staticLists.json?folder=${folderRef(1034)}&offset=${offset}&maxReturn=2`)
    expect(page(0).result?.map((l) => l["name"])).toEqual(["a", "b"])
    expect(page(2).result?.map((l) => l["name"])).toEqual(["c"])
    expect(page(4).warnings).toEqual(["No assets found for the given search criteria."])
    const a = page(0).result![0]!["id"] as number
    expect(call("GET", `/rest/asset/v1/staticList/${a}.json`).result?.[0]).toMatchObject({ id: a, name: "a", folder: { id: 1034, type: "Folder" } })
    expect(call("GET", `/rest/v1/lists/${a}.json`).result?.[0]).toMatchObject({ id: a, name: "a" })
    expect(call("GET", "/rest/v1/lists.json?name=elsewhere").result?.map((l) => l["name"])).toEqual(["elsewhere"])
    // Lead Database browsing pages with batchSize and nextPageToken.
    const first = call("GET", "/rest/v1/lists.json?batchSize=3")
    expect([first.result?.map((l) => l["name"]), first.moreResult]).toEqual([["a", "b", "c"], true])
    const rest = call("GET", `/rest/v1/lists.json?batchSize=3&nextPageToken=${first.nextPageToken!}`)
    expect([rest.result?.map((l) => l["name"]), rest.moreResult, rest.nextPageToken]).toEqual([["elsewhere"], undefined, undefined])
    expect(codeOf(call("GET", "/rest/v1/lists.json?batchSize=301"))).toBe("1003")
    expect(call("POST", `/rest/asset/v1/staticList/${a}/delete.json`).result).toEqual([{ id: a }])
    expect(codeOf(call("GET", `/rest/v1/lists/${a}.json`))).toBe("1013")
  })
})

describe("leads and membership", () => {
  it("upserts by action, skips duplicates with 1007 and finds both twins on lookup", () => {
    const m = new SandboxModel({ duplicateEmails: ["twin@example.com"], leads: ["old@example.com"] })
    const { call } = caller(m)
    const upsert = (action: string, emails: Array<string>) => call("POST", "/rest/v1/leads.json", { action, lookupField: "email", input: emails.map((email) => ({ email })) }).result
    expect(upsert("createOnly", ["OLD@example.com", "new@example.com"])?.map((r) => r["status"])).toEqual(["skipped", "created"])
    expect(upsert("updateOnly", ["nobody@example.com"])).toEqual([{ status: "skipped", reasons: [{ code: "1004", message: "Lead not found" }] }])
    expect(upsert("createOrUpdate", ["Twin@Example.com", "old@example.com"])).toEqual([
      { status: "skipped", reasons: [{ code: "1007", message: "Multiple lead match lookup criteria" }] },
      { id: expect.any(Number), status: "updated" }
    ])
    const twins = call("GET", "/rest/v1/leads.json?filterType=email&filterValues=twin@example.com&fields=id,email").result
    expect(twins).toHaveLength(2)
    expect(new Set(twins?.map((t) => t["id"])).size).toBe(2)
  })

  it("reads long lookups from a form body with _method=GET", () => {
    const m = new SandboxModel({ leads: ["a@example.com", "b@example.com"] })
    const { call } = caller(m)
    const found = call("POST", "/rest/v1/leads.json?_method=GET", "filterType=email&filterValues=A@example.com,b@EXAMPLE.com,c@example.com&fields=email")
    expect(found.result?.map((l) => l["email"])).toEqual(["a@example.com", "b@example.com"])
  })

  it("adds by ?id= or JSON (re-adding says added), checks membership, pages members, and removes with 1015 for non-members", () => {
    const emails = Array.from({ length: 5 }, (_, i) => `m${i}@example.com`)
    const m = new SandboxModel({ leads: emails, lists: [{ name: "L" }] })
    const { call } = caller(m)
    const list = call("GET", "/rest/v1/lists.json?name=L").result![0]!["id"] as number
    const ids = call("GET", `/rest/v1/leads.json?filterType=email&filterValues=${emails.join(",")}&fields=id`).result!.map((l) => l["id"] as number)
    expect(call("POST", `/rest/v1/lists/${list}/leads.json?id=${ids[0]}&id=${ids[1]}`).result?.map((r) => r["status"])).toEqual(["added", "added"])
    expect(call("POST", `/rest/v1/lists/${list}/leads.json`, { input: ids.map((id) => ({ id })) }).result?.map((r) => r["status"])).toEqual(Array(5).fill("added"))
    expect(call("GET", `/rest/v1/lists/${list}/leads/ismember.json?id=${ids[0]}&id=999999`).result).toEqual([
      { id: ids[0], status: "memberof" },
      { id: 999999, status: "skipped", reasons: [{ code: "1004", message: "Lead not found" }] }
    ])
    const first = call("GET", `/rest/v1/lists/${list}/leads.json?batchSize=3&fields=email`)
    expect(first).toMatchObject({ moreResult: true })
    const second = call("GET", `/rest/v1/lists/${list}/leads.json?batchSize=3&fields=email&nextPageToken=${encodeURIComponent(first.nextPageToken!)}`)
    expect(second.nextPageToken).toBeUndefined()
    expect([...first.result!, ...second.result!].map((l) => l["email"])).toEqual(emails)
    const removed = call("DELETE", `/rest/v1/lists/${list}/leads.json`, { input: [{ id: ids[0] }, { id: ids[0] }] })
    expect(removed.result).toEqual([
      { id: ids[0], status: "removed" },
      { id: ids[0], status: "skipped", reasons: [{ code: "1015", message: "Lead not in list" }] }
    ])
    expect(m.members("L")).toEqual(emails.slice(1))
  })
})

describe("member paging", () => {
  it("continues after the last member answered, even when members are removed between pages", () => {
    const emails = Array.from({ length: 6 }, (_, i) => `p${i}@example.com`)
    const m = new SandboxModel({ lists: [{ name: "L", members: emails }] })
    const { call } = caller(m)
    const list = call("GET", "/rest/v1/lists.json?name=L").result![0]!["id"] as number
    const first = call("GET", `/rest/v1/lists/${list}/leads.json?batchSize=3&fields=id,email`)
    const ids = first.result!.map((l) => l["id"] as number)
    // The client removes what it has read before asking for the next page.
    call("DELETE", `/rest/v1/lists/${list}/leads.json?${ids.map((id) => `id=${id}`).join("&")}`)
    const second = call("GET", `/rest/v1/lists/${list}/leads.json?batchSize=3&fields=id,email&nextPageToken=${encodeURIComponent(first.nextPageToken!)}`)
    expect(second.result?.map((l) => l["email"])).toEqual(emails.slice(3))
    expect(second).toMatchObject({ moreResult: false })
    expect(codeOf(call("GET", `/rest/v1/lists/${list}/leads.json?nextPageToken=%25%25`))).toBe("1003")
  })
})

describe("bulk import", () => {
  it("runs two imports at a time first in first out, queues ten more, and refuses the next with 1016", () => {
    const m = new SandboxModel({ importQueuedMillis: 0, importRunningMillis: 1_000 })
    const { call, token } = caller(m)
    const batches = Array.from({ length: 12 }, (_, i) => importInto(m, token(), `email\r\nq${i}@example.com\r\n`, 0).result![0]!["batchId"] as number)
    expect(codeOf(importInto(m, token(), "email\r\nlate@example.com\r\n", 0))).toBe("1016")
    const status = (batch: number, at: number) => call("GET", `/bulk/v1/leads/batch/${batch}.json`, undefined, at).result![0]!["status"]
    expect(batches.map((b) => status(b, 500))).toEqual([...Array(2).fill("Importing"), ...Array(10).fill("Queued")])
    expect(batches.map((b) => status(b, 1_500))).toEqual([...Array(2).fill("Complete"), ...Array(2).fill("Importing"), ...Array(8).fill("Queued")])
    // Two have started, so the queue has room again.
    expect(importInto(m, token(), "email\r\nlate@example.com\r\n", 1_500).success).toBe(true)
    expect(batches.map((b) => status(b, 6_000))).toEqual(Array(12).fill("Complete"))
  })

  it("refuses a second import into a list whose import is in progress with 1019, and an unknown list with 1013", () => {
    const m = new SandboxModel({ lists: [{ name: "L" }, { name: "K" }] })
    const { call, token } = caller(m)
    const [l, k] = ["L", "K"].map((n) => call("GET", `/rest/v1/lists.json?name=${n}`).result![0]!["id"] as number)
    expect(importInto(m, token(), "email\r\na@x.io\r\n", 0, l).success).toBe(true)
    expect(codeOf(importInto(m, token(), "email\r\nb@x.io\r\n", 1_000, l))).toBe("1019")
    expect(importInto(m, token(), "email\r\nb@x.io\r\n", 1_000, k).success).toBe(true)
    expect(codeOf(importInto(m, token(), "email\r\nb@x.io\r\n", 1_000, 424242))).toBe("1013")
    expect(importInto(m, token(), "email\r\nc@x.io\r\n", 8_000, l).success).toBe(true)
  })

  it("reports failed and warned rows as CSV, each row as sent with the reason as its last column", () => {
    const m = new SandboxModel({ lists: [{ name: "L" }], importQueuedMillis: 0, importRunningMillis: 10 })
    const { call, raw, token } = caller(m)
    const list = call("GET", "/rest/v1/lists.json?name=L").result![0]!["id"] as number
    const csv = "email,firstName\r\nok@example.com,Ada\r\n\"not an email\",\"Lovelace, A\"\r\n,Blank\r\n\"quoted,\"\"x\"\"@example.com\",Q\r\n"
    const batch = importInto(m, token(), csv, 0, list).result![0]!["batchId"] as number
    expect(raw("GET", `/bulk/v1/leads/batch/${batch}/warnings.json`).body).toBe("email,firstName,Import Warning Reason\r\n")
    expect(call("GET", `/bulk/v1/leads/batch/${batch}.json`, undefined, 20).result?.[0]).toMatchObject({
      status: "Complete",
      numOfLeadsProcessed: 2,
      numOfRowsFailed: 1,
      numOfRowsWithWarning: 1
    })
    const warnings = raw("GET", `/bulk/v1/leads/batch/${batch}/warnings.json`, undefined, 20)
    expect(warnings.headers["content-type"]).toContain("text/csv")
    expect(warnings.body).toBe("email,firstName,Import Warning Reason\r\nnot an email,\"Lovelace, A\",Invalid email address\r\n")
    expect(raw("GET", `/bulk/v1/leads/batch/${batch}/failures.json`, undefined, 20).body)
      .toBe("email,firstName,Import Failure Reason\r\n,Blank,Value for lookup field 'email' not specified\r\n")
    expect(m.members("L")).toEqual(["ok@example.com", "quoted,\"x\"@example.com"])
  })

  it("ends Failed, importing nothing, when configured to fail a file", () => {
    const m = new SandboxModel({ lists: [{ name: "L" }], failImportsContaining: "boom@example.com", importQueuedMillis: 0, importRunningMillis: 10 })
    const { call, token } = caller(m)
    const list = call("GET", "/rest/v1/lists.json?name=L").result![0]!["id"] as number
    const batch = importInto(m, token(), "email\r\nfine@example.com\r\nboom@example.com\r\n", 0, list).result![0]!["batchId"] as number
    expect(call("GET", `/bulk/v1/leads/batch/${batch}.json`, undefined, 20).result?.[0]?.["status"]).toBe("Failed")
    expect(m.members("L")).toEqual([])
  })
})

describe("faults and control", () => {
  it("fails the next N imports whatever their rows (failImports), then imports again", () => {
    const m = new SandboxModel({ lists: [{ name: "L" }], importQueuedMillis: 0, importRunningMillis: 10 })
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

describe("the model as a function", () => {
  it("step leaves the given state untouched, replays identically from it, and agrees with the in-place model", () => {
    const live = new SandboxModel({ leads: ["a@example.com"], lists: [{ name: "L" }] }, 42)
    live.setFaults([{ kind: "611", rate: 0.5 }])
    const start = structuredClone(live.state)
    const token = { method: "GET", url: tokenUrl(), headers: {}, body: "" }
    const calls = (bearer: string) => Array.from({ length: 12 }, (_, i) => ({
      method: "POST",
      url: "/rest/v1/leads.json",
      headers: { authorization: `Bearer ${bearer}`, "content-type": "application/json" },
      body: JSON.stringify({ action: "createOrUpdate", lookupField: "email", input: [{ email: `u${i}@example.com` }] })
    }))
    const run = (from: typeof start) => {
      let state = from
      const [afterToken, tokenAnswer] = step(state, token, 0)
      state = afterToken
      const answers = [tokenAnswer.body]
      for (const [i, call] of calls(parse(tokenAnswer).access_token!).entries()) {
        const [next, answer] = step(state, call, 1_000 * i)
        state = next
        answers.push(answer.body)
      }
      return { state, answers }
    }
    const pristine = structuredClone(start)
    const first = run(start)
    expect(start).toEqual(pristine)
    expect(first.state.leads.size).toBe(start.leads.size + outcomesOk(first.answers))
    const second = run(start)
    expect(second.answers).toEqual(first.answers)
    // Faults came from the seeded generator carried in the state: some calls failed, some did not.
    const outcomes = first.answers.slice(1).map((a) => codeOf(parse({ body: a })) ?? "ok")
    expect(outcomes).toContain("611")
    expect(outcomes).toContain("ok")
    const liveToken = live.handle(token, 0)
    expect(liveToken.body).toBe(first.answers[0])
    const inPlace = calls(parse(liveToken).access_token!).map((c, i) => live.handle(c, 1_000 * i).body)
    expect(inPlace).toEqual(first.answers.slice(1))
    expect(first.state.leads.size).toBe(live.state.leads.size)
  })
})

const outcomesOk = (answers: ReadonlyArray<string>) => answers.slice(1).filter((a) => parse({ body: a }).success === true).length

describe("at scale", () => {
  it("pages 100,000 members in 334 calls of 300, in id order, with none repeated or missed", () => {
    const m = new SandboxModel({ callsPerWindow: 1_000 })
    const emails = Array.from({ length: 100_000 }, (_, i) => `user${i}@example.com`)
    const list = m.addList("big", 1034, emails)
    const { call } = caller(m)
    const started = performance.now()
    const seen: Array<number> = []
    let token: string | undefined
    let calls = 0
    do {
      const page = call("GET", `/rest/v1/lists/${list}/leads.json?batchSize=300&fields=id,email${token === undefined ? "" : `&nextPageToken=${encodeURIComponent(token)}`}`)
      for (const lead of page.result ?? []) seen.push(lead["id"] as number)
      token = page.nextPageToken
      calls++
    } while (token !== undefined)
    console.log(`paged 100,000 members in ${calls} calls, ${Math.round(performance.now() - started)} ms`)
    expect(calls).toBe(334)
    expect(seen).toHaveLength(100_000)
    expect(new Set(seen).size).toBe(100_000)
    expect(seen.every((id, i) => i === 0 || id > seen[i - 1]!)).toBe(true)
  })
})
