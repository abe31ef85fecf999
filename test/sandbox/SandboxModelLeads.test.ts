// The model's leads and list membership: upserts and lookups, adding, checking, paging and
// removing members, and member paging while members change.
import { describe, expect, it } from "vitest"
import { SandboxModel } from "./SandboxModel.js"
import { caller, codeOf } from "./SandboxTestKit.js"

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
