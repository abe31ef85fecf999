// Lead fields and partitions on the wire, against a scripted HttpClient: values as keys of each
// upsert record, one import file per set of fields with its columns, `partitionName` on both,
// describe2 read into field descriptions, and the partition codes named with their setting.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import type { Email } from "../../core/1-events/Email.js"
import type { ListId } from "../../core/1-events/Ids.js"
import { parseCsv } from "../../core/3-plan/Csv.js"
import { emails, fail, harness, ok, withToken } from "./ScriptedHarness.js"

const fields = new Map<Email, Record<string, string>>([
  ["ada@example.com" as Email, { firstName: "Ada", lastName: "Lovelace, \"Countess\"\nof Lovelace" }],
  ["alan@example.com" as Email, { firstName: "Alan" }]
])

describe("lead fields on the wire", () => {
  it.effect("upserts carry each email's values as keys of its record, and the partition when one is set", () =>
    Effect.gen(function*() {
      for (const partitionName of [undefined, "Europe"]) {
        const h = yield* harness(withToken(() => ok([{ id: 1, status: "created" }, { id: 2, status: "updated" }, { id: 3, status: "created" }])), partitionName === undefined ? {} : { partitionName })
        yield* h.api.upsertLeads(emails("ada@example.com", "alan@example.com", "plain@example.com"), fields)
        const body = JSON.parse(h.apiCalls()[0]!.body) as Record<string, unknown>
        expect(body).toEqual({
          action: "createOrUpdate",
          lookupField: "email",
          ...(partitionName === undefined ? {} : { partitionName }),
          input: [
            { firstName: "Ada", lastName: "Lovelace, \"Countess\"\nof Lovelace", email: "ada@example.com" },
            { firstName: "Alan", email: "alan@example.com" },
            { email: "plain@example.com" }
          ]
        })
      }
    }))

  it.effect("imports one file per set of fields, each with its columns and the partition; values intact", () =>
    Effect.gen(function*() {
      let batch = 10
      const h = yield* harness(withToken(() => ok([{ batchId: ++batch, importId: String(batch), status: "Queued" }])), { partitionName: "Europe" })
      const jobs = yield* h.api.importLeads(9 as ListId, emails("ada@example.com", "alan@example.com", "plain@example.com"), fields)
      expect(jobs).toEqual([{ batchId: 11 }, { batchId: 12 }, { batchId: 13 }])
      const files = yield* Effect.forEach(h.apiCalls(), (call) => {
        expect(Object.fromEntries(call.url.searchParams)).toEqual({ format: "csv", lookupField: "email", listId: "9", partitionName: "Europe" })
        return Effect.promise(() => (call.form?.get("file") as File).text())
      })
      expect(files.map(parseCsv)).toEqual([
        [["email", "firstName", "lastName"], ["ada@example.com", "Ada", "Lovelace, \"Countess\"\nof Lovelace"]],
        [["email", "firstName"], ["alan@example.com", "Alan"]],
        [["email"], ["plain@example.com"]]
      ])
    }))

  it.effect("reads describe2 into the instance's fields: REST name, type, length, whether writable", () =>
    Effect.gen(function*() {
      const h = yield* harness(withToken(() =>
        ok([{
          name: "API Lead",
          searchableFields: [["email"]],
          fields: [
            { name: "firstName", displayName: "First Name", dataType: "string", length: 255, updateable: true, crmManaged: false },
            { name: "createdAt", displayName: "Created At", dataType: "datetime", length: null, updateable: false, crmManaged: false }
          ]
        }])
      ))
      const described = yield* h.api.describeLeadFields()
      expect(h.apiCalls()[0]!.url.pathname).toBe("/rest/v1/leads/describe2.json")
      expect(h.apiCalls()[0]!.method).toBe("GET")
      expect(described).toEqual([
        { name: "firstName", dataType: "string", length: 255, updateable: true },
        { name: "createdAt", dataType: "datetime", updateable: false }
      ])
    }))

  it.effect("a partition refused for the whole call is not retried, and names MARKETO_PARTITION", () =>
    Effect.gen(function*() {
      for (const code of ["1008", "1009"]) {
        const h = yield* harness(withToken(() => fail(code, "partition")))
        const error = yield* Effect.flip(h.api.importLeads(9 as ListId, emails("a@example.com")))
        expect(error).toMatchObject({ _tag: "MarketoRejected", code })
        expect(error.message).toMatch(/MARKETO_PARTITION/)
        expect(h.apiCalls()).toHaveLength(1)
      }
    }))
})
