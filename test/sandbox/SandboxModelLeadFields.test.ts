// The model's lead fields and partitions: describe2, values stored by upserts and imports (an
// empty value blanks a field), unknown and read-only fields refused with 1006, partitions with
// 1008 and 1009, and the dev page showing the values.
import { describe, expect, it } from "vitest"
import { SandboxModel } from "./SandboxModel.js"
import { sandboxPage } from "./SandboxPage.js"
import { caller, codeOf, importInto, multipart, parse } from "./SandboxTestKit.js"

const upsertBody = (input: Array<Record<string, unknown>>, extra: Record<string, unknown> = {}) => ({ action: "createOrUpdate", lookupField: "email", input, ...extra })

describe("lead fields and partitions", () => {
  it("describes every lead field with its REST name, type and whether it can be written", () => {
    const m = new SandboxModel({ customFields: [{ name: "Loyalty_Tier__c", displayName: "Loyalty Tier", dataType: "string", length: 40, updateable: true }] })
    const [record] = caller(m).call("GET", "/rest/v1/leads/describe2.json").result!
    expect(record!["name"]).toBe("API Lead")
    const fields = record!["fields"] as Array<Record<string, unknown>>
    expect(fields.find((f) => f["name"] === "firstName")).toEqual({ name: "firstName", displayName: "First Name", dataType: "string", length: 255, updateable: true, crmManaged: false })
    expect(fields.find((f) => f["name"] === "createdAt")?.["updateable"]).toBe(false)
    expect(fields.some((f) => f["name"] === "Loyalty_Tier__c")).toBe(true)
  })

  it("stores the values an upsert carries, keeps those it does not carry, and blanks one sent empty", () => {
    const m = new SandboxModel()
    const { call } = caller(m)
    call("POST", "/rest/v1/leads.json", upsertBody([{ email: "ada@example.com", firstName: "Ada", lastName: "Lovelace, \"Countess\"" }]))
    call("POST", "/rest/v1/leads.json", upsertBody([{ email: "ada@example.com", firstName: "Augusta" }]))
    const read = () => call("GET", "/rest/v1/leads.json?filterType=email&filterValues=ada@example.com&fields=email,firstName,lastName,company").result
    expect(read()).toEqual([{ id: expect.any(Number), email: "ada@example.com", firstName: "Augusta", lastName: "Lovelace, \"Countess\"", company: null }])
    call("POST", "/rest/v1/leads.json", upsertBody([{ email: "ada@example.com", lastName: "" }]))
    expect(read()?.[0]?.["lastName"]).toBeNull()
  })

  it("skips a record with an unknown or read-only field with 1006, and writes the others", () => {
    const { call } = caller(new SandboxModel())
    const result = call("POST", "/rest/v1/leads.json", upsertBody([
      { email: "a@example.com", fristName: "Typo" },
      { email: "b@example.com", createdAt: "2020-01-01" },
      { email: "c@example.com", firstName: "Fine" }
    ])).result
    expect(result?.map((r) => r["status"])).toEqual(["skipped", "skipped", "created"])
    expect(result?.[0]?.["reasons"]).toEqual([{ code: "1006", message: "Field 'fristName' not found" }])
  })

  it("an import sets the fields of its other columns; an empty cell blanks one unless the instance keeps it; an unknown column is refused", () => {
    for (const keep of [false, true]) {
      const m = new SandboxModel({ importQueuedMillis: 0, importRunningMillis: 0, importRunningMillisPerRow: 0, importBlankCellsKeep: keep })
      const { call, token } = caller(m)
      call("POST", "/rest/v1/leads.json", upsertBody([{ email: "old@example.com", firstName: "Kept", lastName: "Old" }]))
      expect(importInto(m, token(), "email,firstName,lastName\r\nold@example.com,,New\r\nnew@example.com,\"Ada, \"\"A\"\"\",\"two\nlines\"\r\n", 0).success).toBe(true)
      m.settleImports(1)
      const leads = m.snapshot().leads
      expect(leads.find((l) => l.email === "old@example.com")?.fields).toEqual(keep ? { firstName: "Kept", lastName: "New" } : { lastName: "New" })
      expect(leads.find((l) => l.email === "new@example.com")?.fields).toEqual({ firstName: "Ada, \"A\"", lastName: "two\nlines" })
      expect(codeOf(importInto(m, token(), "email,fristName\r\nx@example.com,X\r\n", 0))).toBe("1006")
      expect(codeOf(importInto(m, token(), "email,updatedAt\r\nx@example.com,X\r\n", 0))).toBe("1006")
    }
  })

  it("with partitions, a create must name one the API user may write: 1009 without, 1008 for another", () => {
    const m = new SandboxModel({ partitions: ["Europe"], importQueuedMillis: 0, importRunningMillis: 0, importRunningMillisPerRow: 0 })
    const { call, token } = caller(m)
    const status = (extra: Record<string, unknown>) =>
      call("POST", "/rest/v1/leads.json", upsertBody([{ email: "ada@example.com", firstName: "Ada" }], extra)).result?.[0]
    expect(status({})).toMatchObject({ status: "skipped", reasons: [{ code: "1009" }] })
    expect(status({ partitionName: "Americas" })).toMatchObject({ status: "skipped", reasons: [{ code: "1008" }] })
    expect(status({ partitionName: "Europe" })).toMatchObject({ status: "created" })
    expect(m.snapshot().leads[0]).toMatchObject({ email: "ada@example.com", partition: "Europe", fields: { firstName: "Ada" } })
    const { body, contentType } = multipart("email\r\nb@example.com\r\n")
    const importing = (query: string) =>
      parse(m.handle({ method: "POST", url: `/bulk/v1/leads.json?format=csv&lookupField=email${query}`, headers: { authorization: `Bearer ${token()}`, "content-type": contentType }, body }, 0))
    expect(codeOf(importing(""))).toBe("1009")
    expect(codeOf(importing("&partitionName=Americas"))).toBe("1008")
    expect(importing("&partitionName=Europe").success).toBe(true)
  })

  it("shows each lead with its fields and partition on the dev page", () => {
    const m = new SandboxModel()
    caller(m).call("POST", "/rest/v1/leads.json", upsertBody([{ email: "ada@example.com", firstName: "Ada", lastName: "<Lovelace>" }]))
    const page = sandboxPage(m)
    expect(page).toContain("<h2>Leads</h2>")
    expect(page).toContain("<th>firstName</th><th>lastName</th>")
    expect(page).toContain("<td>ada@example.com</td><td>Ada</td><td>&#60;Lovelace&#62;</td>")
  })
})
