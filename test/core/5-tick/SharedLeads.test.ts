import { describe, expect, it } from "@effect/vitest"
import type { Email } from "../../../core/1-events/Email.js"
import type { AudienceKey, LeadId, ListId } from "../../../core/1-events/Ids.js"
import type { AudienceDelta } from "../../../core/3-plan/PlannedEmail.js"
import { effectsFor, planSharedLeads, withLearned } from "../../../core/5-tick/SharedLeads.js"

const e = (s: string) => s as Email
const delta = (audience: string, add: Array<string>, remove: Array<string>, known: Record<string, number> = {}): AudienceDelta => ({
  audience: audience as AudienceKey,
  listName: audience,
  folderName: "Engage Audiences",
  listId: 1 as ListId,
  add: add.map((x) => (known[x] === undefined ? { email: e(x) } : { email: e(x), leadIds: [known[x] as LeadId] })),
  remove: remove.map((x) => (known[x] === undefined ? { email: e(x) } : { email: e(x), leadIds: [known[x] as LeadId] })),
  pendingImports: []
})

describe("SharedLeads", () => {
  it("resolves each unknown email once across audiences: adds by upsert, removals by lookup unless upserted anyway", () => {
    const plan = planSharedLeads([
      delta("a", ["x@example.com", "y@example.com"], ["z@example.com"]),
      delta("b", ["x@example.com"], ["y@example.com", "k@example.com"], { "k@example.com": 9 })
    ], 3_000)
    expect(plan.upserts).toEqual([["x@example.com", "y@example.com"]])
    // y is upserted for a (which learns its id), so b's removal needs no lookup; k's id is known.
    expect(plan.lookups).toEqual([["z@example.com"]])
  })

  it("leaves adds a plan would import to that plan, batches by 300 and stops at the cap", () => {
    const many = Array.from({ length: 1_000 }, (_, i) => `u${i}@example.com`)
    expect(planSharedLeads([delta("big", many, [])], 3_000).upserts).toEqual([])
    const removals = planSharedLeads([delta("exit", [], many)], 700)
    expect(removals.lookups.map((b) => b.length)).toEqual([300, 300, 100])
  })

  it("gives each audience the effects on its own delta, and folds them into the delta", () => {
    const d = delta("a", ["x@example.com", "bad@example.com"], ["gone@example.com", "y@example.com"])
    const shared = new Map([
      [e("x@example.com"), { _tag: "Found" as const, leadIds: [1 as LeadId] }],
      [e("bad@example.com"), { _tag: "Refused" as const, code: "1003" }],
      [e("gone@example.com"), { _tag: "NoLead" as const }],
      [e("y@example.com"), { _tag: "Found" as const, leadIds: [2 as LeadId, 3 as LeadId] }],
      [e("other@example.com"), { _tag: "Found" as const, leadIds: [4 as LeadId] }]
    ])
    const effects = effectsFor(d, shared)
    expect(effects).toEqual([
      { _tag: "LeadIdsLearned", ids: [{ email: "x@example.com", leadIds: [1] }, { email: "y@example.com", leadIds: [2, 3] }] },
      { _tag: "EmailsRefused", refused: [{ email: "bad@example.com", code: "1003" }] },
      { _tag: "MembershipConfirmed", emails: ["gone@example.com"], synced: false }
    ])
    const after = withLearned(d, effects)
    expect(after.add).toEqual([{ email: "x@example.com", leadIds: [1] }])
    expect(after.remove).toEqual([{ email: "y@example.com", leadIds: [2, 3] }])
  })
})
