import { describe, expect, it } from "@effect/vitest"
import { Effect, Schema } from "effect"
import fc from "fast-check"
import { csvDocument } from "../../../core/3-plan/Csv.js"
import { lowerBound, minDurationSeconds, planCalls } from "../../../core/3-plan/CostModel.js"
import type { Email } from "../../../core/1-events/Email.js"
import type { AudienceKey, ImportBatchId, LeadId, ListId } from "../../../core/1-events/Ids.js"
import { lookupMethodFor } from "../../../core/3-plan/LookupMethod.js"
import { MarketoLimits } from "../../../core/marketo/MarketoLimits.js"
import { decodePlan, encodePlan, Plan } from "../../../core/3-plan/Plan.js"
import { type AudienceDelta, planAudience, type PlannedEmail } from "../../../core/3-plan/Planner.js"

const audience = "vip" as AudienceKey
const emails = (n: number, prefix = "user") => Array.from({ length: n }, (_, i) => `${prefix}${i}@example.com` as Email)
const known = (es: ReadonlyArray<Email>, from = 1): Array<PlannedEmail> => es.map((email, i) => ({ email, leadIds: [(from + i) as LeadId] }))
const unknown = (es: ReadonlyArray<Email>): Array<PlannedEmail> => es.map((email) => ({ email }))
const delta = (over: Partial<AudienceDelta>): AudienceDelta => ({
  audience, listName: "VIP", folderName: "Engage Audiences", listId: 7 as ListId, add: [], remove: [], pendingImports: [], ...over
})
const tags = (plan: Plan) => plan.steps.map((s) => s._tag)

const arbEmail = fc.oneof(
  fc.stringMatching(/^[a-z0-9]{1,20}$/).map((l) => `${l}@example.com`),
  fc.stringMatching(/^[a-z0-9]{40,64}$/).map((l) => `${l}@a-very-long-domain-name-for-testing.example.com`),
  fc.stringMatching(/^[=+@-][a-z]{1,8}$/).map((l) => `${l}@example.com`)
) as fc.Arbitrary<Email>
const arbPlanned = fc.tuple(arbEmail, fc.option(fc.array(fc.integer({ min: 1, max: 1e6 }), { minLength: 1, maxLength: 3 }), { nil: undefined }))
  .map(([email, ids]): PlannedEmail => (ids === undefined ? { email } : { email, leadIds: ids as Array<LeadId> }))
const arbDelta = fc.record({
  add: fc.uniqueArray(arbPlanned, { selector: (e) => e.email, maxLength: 1500 }),
  remove: fc.uniqueArray(arbPlanned, { selector: (e) => e.email, maxLength: 1500 }),
  hasList: fc.boolean(),
  pending: fc.array(fc.integer({ min: 1, max: 1000 }), { maxLength: 2 })
}).map(({ add, hasList, pending, remove }) => {
  const added = new Set(add.map((e) => e.email))
  return delta({
    add,
    remove: remove.filter((e) => !added.has(e.email)),
    pendingImports: pending as Array<ImportBatchId>,
    ...(hasList ? {} : { listId: undefined as never })
  })
}).map((d) => (d.listId === undefined ? (({ listId: _l, ...rest }) => rest)(d) as AudienceDelta : d))

describe("Planner", () => {
  it("respects Marketo's limits in every step", () => {
    fc.assert(fc.property(arbDelta, (d) => {
      const plan = planAudience(d)
      const ids = new Map([...d.add, ...d.remove].map((e) => [e.email, e.leadIds?.length ?? 0]))
      for (const step of plan.steps) {
        if (step._tag === "AddToList" || step._tag === "RemoveFromList" || step._tag === "UpsertLeads" || step._tag === "LookupLeads") {
          expect(step.emails.length).toBeGreaterThan(0)
          expect(step.emails.length).toBeLessThanOrEqual(300)
        }
        if (step._tag === "AddToList" || step._tag === "RemoveFromList") {
          expect(step.emails.reduce((n, e) => n + Math.max(1, ids.get(e) ?? 0), 0)).toBeLessThanOrEqual(300)
        }
        if (step._tag === "ImportLeads") {
          const csv = csvDocument(["email"], step.emails.map((e) => [e]))
          expect(new TextEncoder().encode(csv).length).toBe(step.csvBytes)
          expect(step.csvBytes).toBeLessThanOrEqual(MarketoLimits.maxImportFileBytes)
          expect(step.emails.every((e) => !/^[=+\-@]/.test(e))).toBe(true)
        }
        if (step._tag === "LookupLeads") expect(step.method).toBe(lookupMethodFor(step.emails))
      }
    }), { numRuns: 100 })
  })

  it("adds every email exactly once and removes every email exactly once", () => {
    fc.assert(fc.property(arbDelta, (d) => {
      const plan = planAudience(d)
      const added = plan.steps.flatMap((s) => (s._tag === "ImportLeads" ? s.emails : s._tag === "AddToList" ? s.emails : []))
      const removed = plan.steps.flatMap((s) => (s._tag === "RemoveFromList" ? s.emails : []))
      expect([...added].sort()).toEqual(d.add.map((e) => e.email).sort())
      expect([...removed].sort()).toEqual(d.remove.map((e) => e.email).sort())
      // Every add of an unknown lead is preceded by its upsert.
      const upserted = new Set(plan.steps.flatMap((s) => (s._tag === "UpsertLeads" ? s.emails : [])))
      const knownIds = new Set(d.add.filter((e) => (e.leadIds?.length ?? 0) > 0).map((e) => e.email))
      for (const s of plan.steps) if (s._tag === "AddToList") for (const e of s.emails) expect(knownIds.has(e) || upserted.has(e)).toBe(true)
    }), { numRuns: 100 })
  })

  it("stays within 5% of the lower bound (plus 2 calls for formula-character emails that cannot be imported)", () => {
    fc.assert(fc.property(arbDelta, (d) => {
      const calls = planCalls(planAudience(d))
      const bound = lowerBound(d)
      expect(calls).toBeGreaterThanOrEqual(bound)
      expect(calls).toBeLessThanOrEqual(Math.floor(bound * 1.05) + 2)
    }), { numRuns: 200 })
  })

  it("round-trips plans through JSON losslessly", () =>
    Effect.gen(function*() {
      const samples = fc.sample(arbDelta, 30)
      for (const d of samples) {
        const plan = planAudience(d)
        const back = yield* decodePlan(encodePlan(plan))
        expect(back).toEqual(plan)
        expect(encodePlan(back)).toBe(encodePlan(plan))
      }
    }).pipe(Effect.runPromise))

  it("refuses a step of 301 emails when decoding", () => {
    const json = JSON.stringify({ audience, steps: [{ _tag: "AddToList", audience, emails: emails(301) }] })
    expect(() => Schema.decodeUnknownSync(Schema.parseJson(Plan))(json)).toThrow(/300/)
  })

  it("creates a new list with two calls, then imports a large initial load", () => {
    const plan = planAudience(delta({ listId: undefined as never, add: unknown(emails(100_000)) }))
    expect(tags(plan)).toEqual(["EnsureFolder", "EnsureList", "ImportLeads"])
    expect(planCalls(plan)).toBe(4)
  })

  it("uses a sender-named list without creating one, once it is checked against the folder", () => {
    const { listId: _l, ...rest } = delta({ externalListId: 99 as ListId, add: known(emails(2)) })
    const plan = planAudience(rest)
    expect(tags(plan)).toEqual(["EnsureFolder", "EnsureList", "AddToList"])
    expect(plan.steps[1]).toMatchObject({ listId: 99 })
    expect(planCalls(plan)).toBe(3)
  })

  it("upserts small deltas (cheaper than an import and its poll only from 300 emails on)", () => {
    expect(tags(planAudience(delta({ add: unknown(emails(250)) })))).toEqual(["UpsertLeads", "AddToList"])
    expect(tags(planAudience(delta({ add: unknown(emails(1000)) })))).toEqual(["ImportLeads"])
    expect(tags(planAudience(delta({ add: unknown(emails(1000)) }), { addPath: "fastest" }))).toEqual([...Array(4).fill("UpsertLeads"), ...Array(4).fill("AddToList")])
  })

  it("shares add calls between cached lead ids and ids just upserted, and remove calls between cached and looked-up ids", () => {
    const plan = planAudience(delta({ add: [...known(emails(200, "k")), ...unknown(emails(100, "u"))], remove: [...known(emails(200, "r"), 1_000), ...unknown(emails(100, "q"))] }))
    expect(tags(plan)).toEqual(["UpsertLeads", "AddToList", "LookupLeads", "RemoveFromList"])
    expect(planCalls(plan)).toBe(4)
  })

  it("weighs time: an import that would be confirmed after the latency target gives way to upsert + add when the budget allows", () => {
    const churn = delta({ add: unknown(emails(1000)) })
    const timing = (importMillis: number, affordableCalls: number) => ({ confirmMillis: () => importMillis, leftMillis: 270_000, affordableCalls })
    // In time: the cheaper import.
    expect(tags(planAudience(churn, { timing: timing(120_000, 100) }))).toEqual(["ImportLeads"])
    // Too slow for the target, and upsert + add (8 calls) fits the budget: upsert + add.
    expect(tags(planAudience(churn, { timing: timing(660_000, 100) }))).toEqual([...Array(4).fill("UpsertLeads"), ...Array(4).fill("AddToList")])
    // Too slow, but upsert + add cannot be paid for before the target anyway: the import.
    expect(tags(planAudience(churn, { timing: timing(660_000, 7) }))).toEqual(["ImportLeads"])
    // Too slow, and upsert + add of these fits the budget, but 600,000 more adds wait behind them
    // (a load larger than a tick collects): upserting a part keeps no target, so the import.
    expect(tags(planAudience(churn, { timing: { ...timing(660_000, 100), addsBeyond: 600_000 } }))).toEqual(["ImportLeads"])
    // A few adds waiting beyond still leave upsert + add affordable: upsert + add.
    expect(tags(planAudience(churn, { timing: { ...timing(660_000, 100), addsBeyond: 600 } }))).toEqual([...Array(4).fill("UpsertLeads"), ...Array(4).fill("AddToList")])
    // A row an import refused before is never imported again.
    const refusedBefore = delta({ add: [{ email: "again@example.com" as Email, importFailed: true }, ...unknown(emails(2000))] })
    expect(tags(planAudience(refusedBefore))).toEqual(["UpsertLeads", "AddToList", "ImportLeads"])
  })

  it("never imports formula-character emails", () => {
    const plan = planAudience(delta({ add: unknown([...emails(2000), "=cmd@example.com" as Email]) }))
    expect(tags(plan)).toEqual(["UpsertLeads", "AddToList", "ImportLeads"])
    expect(plan.steps[0]).toMatchObject({ emails: ["=cmd@example.com"] })
  })

  it("removes by cached ids, else looks the leads up first", () => {
    expect(tags(planAudience(delta({ remove: known(emails(600)) })))).toEqual(["RemoveFromList", "RemoveFromList"])
    expect(tags(planAudience(delta({ remove: unknown(emails(301)) })))).toEqual(["LookupLeads", "LookupLeads", "RemoveFromList", "RemoveFromList"])
  })

  it("chunks removals by lead ids when Marketo has duplicates", () => {
    const dupes = emails(200).map((email, i): PlannedEmail => ({ email, leadIds: [(2 * i + 1) as LeadId, (2 * i + 2) as LeadId] }))
    const plan = planAudience(delta({ remove: dupes }))
    expect(plan.steps.map((s) => (s._tag === "RemoveFromList" ? s.emails.length : 0))).toEqual([150, 50])
  })

  it("polls imports started earlier before anything else", () => {
    expect(tags(planAudience(delta({ pendingImports: [3 as ImportBatchId], add: known(emails(1)) })))).toEqual(["PollImport", "AddToList"])
  })

  it("plans nothing for an empty delta", () => {
    expect(planAudience(delta({})).steps).toEqual([])
    expect(lowerBound(delta({}))).toBe(0)
  })

  it("switches lookups to POST when the URL would pass 8 KB", () => {
    expect(lookupMethodFor(emails(300))).toBe("GET")
    expect(lookupMethodFor(emails(300, "firstname.lastname"))).toBe("POST")
    expect(lookupMethodFor(emails(100))).toBe("GET")
  })

  it("computes the minimum duration under the rolling window", () => {
    const budget = { callsPerWindow: 50, windowMillis: 20_000 }
    expect([0, 1, 50, 51, 100, 101].map((c) => minDurationSeconds(c, budget))).toEqual([0, 0, 0, 20, 20, 40])
  })
})
