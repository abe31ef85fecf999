// Plans that carry lead fields: import files with a column per field (exact size, under 10 MB, one
// set of fields per file, values intact), upserts for what a CSV cannot carry, changed values of
// members on a list as UpdateLeads, and the lower bound that counts them.
import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import type { Email } from "../../../core/1-events/Email.js"
import type { AudienceKey, LeadId, ListId } from "../../../core/1-events/Ids.js"
import { lowerBound, planCalls } from "../../../core/3-plan/CostModel.js"
import { parseCsv, utf8Bytes } from "../../../core/3-plan/Csv.js"
import { csvOf, type FieldsOf, importFiles } from "../../../core/3-plan/ImportFiles.js"
import { type AudienceDelta, planAudience, type PlannedEmail } from "../../../core/3-plan/Planner.js"
import { fieldsOfPlanned, type PlannedFields } from "../../../core/3-plan/PlannedEmail.js"
import { MarketoLimits } from "../../../core/marketo/MarketoLimits.js"

const audience = "vip" as AudienceKey
const delta = (over: Partial<AudienceDelta>): AudienceDelta => ({
  audience, listName: "VIP", folderName: "Engage Audiences", listId: 7 as ListId, add: [], remove: [], pendingImports: [], ...over
})
const fields = (values: Record<string, string>): PlannedFields => ({ values, at: 1, digest: "00000000" })
const named = (n: number, values: (i: number) => Record<string, string> | undefined, prefix = "user"): Array<PlannedEmail> =>
  Array.from({ length: n }, (_, i) => {
    const v = values(i)
    return { email: `${prefix}${String(i).padStart(7, "0")}@example.com` as Email, ...(v === undefined ? {} : { fields: fields(v) }) }
  })
const encoder = new TextEncoder()

/** Values as people write them: commas, quotes, newlines, accents, emoji, a lone surrogate, formula characters. */
const arbValue = fc.oneof(
  fc.stringMatching(/^[A-Za-z][a-z]{0,12}$/),
  fc.constantFrom("O'Brien, \"Jr.\"", "line one\nline two", "Zoë Ünal", "李小龙", "😀 emoji", "\ud800alone", "=SUM(A1)", "-5", "+1 555 0100", "@handle"),
  fc.fullUnicodeString({ minLength: 1, maxLength: 30 }).filter((s) => s.trim() === s && s !== "")
)
const arbFields = fc.option(fc.dictionary(fc.constantFrom("firstName", "lastName", "city"), arbValue, { minKeys: 1, maxKeys: 3 }), { nil: undefined })
const arbAdds = fc.uniqueArray(
  fc.tuple(fc.stringMatching(/^[a-z0-9]{1,12}$/), arbFields).map(([local, values]): PlannedEmail => ({
    email: `${local}@example.com` as Email,
    ...(values === undefined ? {} : { fields: fields(values) })
  })),
  { selector: (e) => e.email, maxLength: 2000 }
)

describe("plans with lead fields", () => {
  it("import files: exact bytes, under 10 MB, one set of fields per file with no empty cell, values read back intact, no formula", () => {
    fc.assert(fc.property(arbAdds, (add) => {
      const plan = planAudience(delta({ add }))
      const byEmail = new Map(add.map((e) => [e.email, e]))
      const fieldsOf = fieldsOfPlanned(add)
      for (const step of plan.steps) {
        if (step._tag !== "ImportLeads") continue
        const [file] = importFiles(step.emails, fieldsOf)
        expect(importFiles(step.emails, fieldsOf)).toHaveLength(1)
        const csv = csvOf(file!, fieldsOf)
        expect(encoder.encode(csv).length).toBe(step.csvBytes)
        expect(step.csvBytes).toBeLessThanOrEqual(MarketoLimits.maxImportFileBytes)
        const [header, ...rows] = parseCsv(csv)
        expect(rows).toHaveLength(step.emails.length)
        for (const row of rows) {
          const planned = byEmail.get(row[0] as Email)!
          expect(Object.fromEntries(header!.slice(1).map((h, i) => [h, row[i + 1]]))).toEqual(planned.fields?.values ?? {})
          for (const cell of row) expect(cell).not.toMatch(/^[=+\-@\t\r]/)
        }
      }
      const added = plan.steps.flatMap((s) => (s._tag === "ImportLeads" || s._tag === "AddToList" ? s.emails : []))
      expect([...added].sort()).toEqual(add.map((e) => e.email).sort())
    }), { numRuns: 60 })
  })

  it("stays within the lower bound's reach (plus 2 calls for what a CSV cannot carry), fields counted", () => {
    fc.assert(fc.property(arbAdds, fc.nat(700), (add, updates) => {
      const d = delta({ add, update: named(updates, () => ({ firstName: "Ada" }), "member") })
      const calls = planCalls(planAudience(d))
      const bound = lowerBound(d)
      expect(calls).toBeGreaterThanOrEqual(bound)
      expect(calls).toBeLessThanOrEqual(Math.floor(bound * 1.05) + 2)
    }), { numRuns: 100 })
  })

  it("splits at 10 MB exactly as the bytes say, with long multi-byte names", () => {
    const long = (i: number) => ({ firstName: `${"Zoë😀".repeat(60)}${i}`, lastName: `Ünal, "the ${i}th"` })
    const add = named(60_000, long)
    const fieldsOf = fieldsOfPlanned(add)
    const files = importFiles(add.map((e) => e.email), fieldsOf)
    expect(files.length).toBeGreaterThan(1)
    for (const [i, file] of files.entries()) {
      expect(file.csvBytes).toBeLessThanOrEqual(MarketoLimits.maxImportFileBytes)
      expect(encoder.encode(csvOf(file, fieldsOf)).length).toBe(file.csvBytes)
      const next = files[i + 1]?.emails[0]
      // Full: the next file's first row would not have fitted.
      if (next !== undefined) expect(file.csvBytes + utf8Bytes(csvOf({ ...file, emails: [next] }, fieldsOf).split("\r\n").slice(1).join("\r\n"))).toBeGreaterThan(MarketoLimits.maxImportFileBytes)
    }
    const plan = planAudience(delta({ add }))
    expect(plan.steps.map((s) => s._tag)).toEqual(files.map(() => "ImportLeads"))
  })

  it("rows that carry different fields go in different files; a group too small for its file is upserted", () => {
    const add = [...named(2_000, () => ({ firstName: "Ada", lastName: "Lovelace" })), ...named(5, () => ({ firstName: "Alan" }), "few")]
    const plan = planAudience(delta({ add }))
    expect(plan.steps.map((s) => s._tag)).toEqual(["UpsertLeads", "AddToList", "ImportLeads"])
    expect(plan.steps[0]!).toMatchObject({ emails: add.slice(2_000).map((e) => e.email) })
    const both = planAudience(delta({ add: [...named(2_000, () => ({ firstName: "Ada" })), ...named(2_000, () => undefined, "plain")] }))
    expect(both.steps.map((s) => s._tag)).toEqual(["ImportLeads", "ImportLeads"])
  })

  it("a formula-like value goes by upsert, with the email's other values", () => {
    const add = [...named(1_000, () => ({ firstName: "Ada" })), { email: "eve@example.com" as Email, fields: fields({ firstName: "=HYPERLINK(\"x\")" }) }]
    const plan = planAudience(delta({ add }))
    expect(plan.steps.map((s) => s._tag)).toEqual(["UpsertLeads", "AddToList", "ImportLeads"])
    expect(plan.steps[0]!).toMatchObject({ emails: ["eve@example.com"] })
  })

  it("sends changed values of members on the list as UpdateLeads, 300 per call, after the adds", () => {
    const update = named(650, () => ({ firstName: "Ada" }), "member")
    const known = [{ email: "k@example.com" as Email, leadIds: [9 as LeadId] }]
    const plan = planAudience(delta({ add: known, update, remove: [{ email: "gone@example.com" as Email, leadIds: [3 as LeadId] }] }))
    expect(plan.steps.map((s) => s._tag)).toEqual(["AddToList", "UpdateLeads", "UpdateLeads", "UpdateLeads", "RemoveFromList"])
    expect(plan.steps.filter((s) => s._tag === "UpdateLeads").map((s) => (s as { emails: ReadonlyArray<Email> }).emails.length)).toEqual([300, 300, 50])
    expect(lowerBound(delta({ update }))).toBe(3)
  })

  it("the CSV of a file without fields is the email column alone, as before", () => {
    const fieldsOf: FieldsOf = () => undefined
    const [file] = importFiles(["a@example.com", "b@example.com"] as Array<Email>, fieldsOf)
    expect(csvOf(file!, fieldsOf)).toBe("email\r\na@example.com\r\nb@example.com\r\n")
  })
})
