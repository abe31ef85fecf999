import { describe, expect, it } from "@effect/vitest"
import { acceptedFields, checkLeadFields, checkStands, fieldCheckProblems, recheckProblemsAfterMillis } from "../../../core/marketo/LeadFieldCheck.js"
import { defaultMemoryLeadFields } from "../../../core/ports/MarketoApiMemory.js"

describe("lead field check", () => {
  it("names unknown fields (with the field of the same name in another case) and read-only ones; sends the rest in order", () => {
    const check = checkLeadFields(["lastName", "firstname", "createdAt", "Loyalty"], defaultMemoryLeadFields, 1_000)
    expect(check).toEqual({
      fields: ["Loyalty", "createdAt", "firstname", "lastName"],
      unknown: [{ name: "firstname", suggestion: "firstName" }, { name: "Loyalty" }],
      readOnly: ["createdAt"],
      checkedAt: 1_000
    })
    expect(acceptedFields(["lastName", "firstname", "createdAt", "Loyalty"], check)).toEqual(["lastName"])
    expect(fieldCheckProblems(check)).toEqual([
      "MARKETO_LEAD_FIELDS: firstname is not a lead field of this Marketo instance (did you mean firstName?); it is not sent (Admin → Field Management lists the fields; use the REST API name)",
      "MARKETO_LEAD_FIELDS: Loyalty is not a lead field of this Marketo instance; it is not sent (Admin → Field Management lists the fields; use the REST API name)",
      "MARKETO_LEAD_FIELDS: createdAt is read-only in Marketo; it is not sent"
    ])
  })

  it("stands for the same fields: for good when clean, an hour when it found problems; never for other fields", () => {
    const clean = checkLeadFields(["firstName", "lastName"], defaultMemoryLeadFields, 0)
    const troubled = checkLeadFields(["firstName", "nope"], defaultMemoryLeadFields, 0)
    expect(checkStands(clean, ["lastName", "firstName"], 10 * recheckProblemsAfterMillis)).toBe(true)
    expect(checkStands(clean, ["firstName"], 0)).toBe(false)
    expect(checkStands(troubled, ["firstName", "nope"], recheckProblemsAfterMillis - 1)).toBe(true)
    expect(checkStands(troubled, ["firstName", "nope"], recheckProblemsAfterMillis)).toBe(false)
    expect(checkStands(null, ["firstName"], 0)).toBe(false)
  })
})
