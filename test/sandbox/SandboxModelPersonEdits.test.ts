// What the sandbox does that is not kind to an integration: answers lost after the call ran,
// leads merged by a person, rows put into failures.csv, lists deleted or renamed by hand.
import { describe, expect, it } from "vitest"
import { SandboxModel } from "./SandboxModel.js"
import { caller, codeOf, importInto, multipart } from "./SandboxTestKit.js"

const listId = (call: ReturnType<typeof caller>["call"], name: string) => call("GET", `/rest/v1/lists.json?name=${name}`).result![0]!["id"] as number

describe("answers lost after the call ran", () => {
  it("runs the call, counts it, then drops the connection (or answers 502), seeded like the other faults", () => {
    const m = new SandboxModel({ folders: [{ id: 1034, name: "F", type: "Folder", path: "/F" }] })
    const { call, raw } = caller(m)
    m.setFaults([{ kind: "lost", count: 1, pathPrefix: "/rest/asset/v1/staticLists.json" }, { kind: "lost", count: 1, as: "502", pathPrefix: "/rest/v1/leads.json" }])
    const created = raw("POST", "/rest/asset/v1/staticLists.json", `name=L&folder=${encodeURIComponent(JSON.stringify({ id: 1034, type: "Folder" }))}`)
    expect(created.drop).toBe(true)
    // The list exists all the same: a second creation answers 709.
    expect(m.snapshot().lists.map((l) => l.name)).toEqual(["L"])
    expect(codeOf(call("POST", "/rest/asset/v1/staticLists.json", `name=L&folder=${encodeURIComponent(JSON.stringify({ id: 1034, type: "Folder" }))}`))).toBe("709")
    const upsert = raw("POST", "/rest/v1/leads.json", { action: "createOrUpdate", input: [{ email: "a@x.io" }] })
    expect([upsert.status, upsert.body]).toEqual([502, "<html><body>502 Bad Gateway</body></html>"])
    expect(m.leadIdsOf("a@x.io")).toHaveLength(1)
    const calls = m.log.filter((c) => !c.path.startsWith("/identity/"))
    expect(calls.map((c) => [c.outcome, c.counted, c.injected ?? false, c.ran])).toEqual([
      ["lost", true, true, "ok"],
      ["709", true, false, undefined],
      ["lost 502", true, true, "ok"]
    ])
    expect(m.counters().counted).toBe(3)
  })

  it("loses an import's answer after the job is queued: the job runs and lands", () => {
    const m = new SandboxModel({ lists: [{ name: "L" }], importQueuedMillis: 0, importRunningMillis: 10, importRunningMillisPerRow: 0 })
    const { call, token } = caller(m)
    const list = listId(call, "L")
    m.setFaults([{ kind: "lost", count: 1, pathPrefix: "/bulk/" }])
    const { body, contentType } = multipart("email\r\na@x.io\r\n")
    const lost = m.handle({ method: "POST", url: `/bulk/v1/leads.json?format=csv&listId=${list}`, headers: { authorization: `Bearer ${token()}`, "content-type": contentType }, body }, 0)
    expect(lost.drop).toBe(true)
    expect(m.snapshot().imports).toMatchObject([{ listId: list, rows: 1 }])
    m.settleImports(20)
    expect(m.members("L")).toEqual(["a@x.io"])
  })
})

describe("what a person does by hand", () => {
  it("merges duplicates: the loser's id answers 1004, the winner holds its lists, a lookup finds the winner alone", () => {
    const m = new SandboxModel({ duplicateEmails: ["twin@x.io"], lists: [{ name: "L" }] })
    const { call } = caller(m)
    const list = listId(call, "L")
    const [older, newer] = m.leadIdsOf("twin@x.io")
    expect(call("POST", `/rest/v1/lists/${list}/leads.json`, { input: [{ id: newer }] }).result).toEqual([{ id: newer, status: "added" }])
    expect(m.mergeDuplicates("twin@x.io")).toBe(older)
    expect(m.members("L")).toEqual(["twin@x.io"])
    expect(call("GET", "/rest/v1/leads.json?filterType=email&filterValues=twin@x.io&fields=id").result).toEqual([{ id: older }])
    expect(call("POST", `/rest/v1/lists/${list}/leads.json`, { input: [{ id: newer }] }).result).toEqual([{ id: newer, status: "skipped", reasons: [{ code: "1004", message: "Lead not found" }] }])
    expect(call("DELETE", `/rest/v1/lists/${list}/leads.json?id=${newer}`).result![0]).toMatchObject({ status: "skipped", reasons: [{ code: "1004" }] })
    // An upsert of the email now updates the one lead left instead of being skipped with 1007.
    expect(call("POST", "/rest/v1/leads.json", { input: [{ email: "twin@x.io" }] }).result).toEqual([{ id: older, status: "updated" }])
  })

  it("merges two leads of different emails: the winner keeps its own email and gains the loser's lists", () => {
    const m = new SandboxModel({ lists: [{ name: "L", members: ["a@x.io"] }, { name: "K", members: ["b@x.io"] }] })
    const [a] = m.leadIdsOf("a@x.io")
    const [b] = m.leadIdsOf("b@x.io")
    expect(m.mergeLeads(a!, b!)).toBe(b)
    expect(m.members("L")).toEqual(["b@x.io"])
    expect(m.members("K")).toEqual(["b@x.io"])
    expect(m.leadIdsOf("a@x.io")).toEqual([])
    expect(() => m.mergeLeads(b!, b!)).toThrow()
  })

  it("deletes a list: every call on it answers 1013; renames one: its id and members stay", () => {
    const m = new SandboxModel({ leads: ["a@x.io"], lists: [{ name: "L", members: ["a@x.io"] }, { name: "K" }], importQueuedMillis: 0 })
    const { call, token } = caller(m)
    const [l, k] = [listId(call, "L"), listId(call, "K")]
    const [lead] = m.leadIdsOf("a@x.io")
    expect(m.deleteList("L")).toBe(true)
    expect(codeOf(call("POST", `/rest/v1/lists/${l}/leads.json`, { input: [{ id: lead }] }))).toBe("1013")
    expect(codeOf(call("DELETE", `/rest/v1/lists/${l}/leads.json?id=${lead}`))).toBe("1013")
    expect(codeOf(call("GET", `/rest/v1/lists/${l}/leads.json`))).toBe("1013")
    expect(codeOf(importInto(m, token(), "email\r\nb@x.io\r\n", 0, l))).toBe("1013")
    expect(m.renameList(k, "K renamed")).toBe(true)
    expect(call("GET", `/rest/asset/v1/staticList/${k}.json`).result![0]).toMatchObject({ id: k, name: "K renamed" })
    expect(call("POST", `/rest/v1/lists/${k}/leads.json`, { input: [{ id: lead }] }).result).toEqual([{ id: lead, status: "added" }])
  })

  it("puts rows into failures.csv on demand, by email or at a seeded rate, in Marketo's form", () => {
    const m = new SandboxModel({ lists: [{ name: "L" }], importQueuedMillis: 0, importRunningMillis: 10, importRunningMillisPerRow: 0, failImportRowsOf: ["bad@x.io"] })
    const { call, raw, token } = caller(m)
    const list = listId(call, "L")
    const batch = importInto(m, token(), "email\r\nok@x.io\r\nBAD@x.io\r\n", 0, list).result![0]!["batchId"] as number
    expect(call("GET", `/bulk/v1/leads/batch/${batch}.json`, undefined, 20).result![0]).toMatchObject({ status: "Complete", numOfLeadsProcessed: 1, numOfRowsFailed: 1 })
    expect(raw("GET", `/bulk/v1/leads/batch/${batch}/failures.json`, undefined, 20).body)
      .toBe("email,Import Failure Reason\r\nBAD@x.io,Failed to import the row: a system error occurred\r\n")
    expect(m.members("L")).toEqual(["ok@x.io"])
    const rows = Array.from({ length: 200 }, (_, i) => `r${i}@x.io`)
    const failedAt = (seed: number) => {
      const n = new SandboxModel({ lists: [{ name: "L" }], importQueuedMillis: 0, importRunningMillis: 10, importRunningMillisPerRow: 0 }, seed)
      const c = caller(n)
      n.failImportRows(0.1)
      const id = importInto(n, c.token(), `email\r\n${rows.join("\r\n")}\r\n`, 0, listId(c.call, "L")).result![0]!["batchId"] as number
      return c.call("GET", `/bulk/v1/leads/batch/${id}.json`, undefined, 20).result![0]!["numOfRowsFailed"] as number
    }
    expect(failedAt(5)).toBe(failedAt(5))
    expect(failedAt(5)).toBeGreaterThan(5)
    expect(failedAt(5)).toBeLessThan(40)
  })
})
