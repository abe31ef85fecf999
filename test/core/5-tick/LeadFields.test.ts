// Leads arrive with their names: the member's mapped traits reach Marketo with the adds (upsert or
// import), changed values of members on a list are sent when the deployment asks for it, once for
// every list, and nothing is ever blanked; a stopped tick loses no change and partitions are named.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Exit, Option, TestClock } from "effect"
import { decodeEvents } from "../../../core/1-events/EventDecoder.js"
import type { AudienceKey } from "../../../core/1-events/Ids.js"
import { parseLeadFieldMapping } from "../../../core/1-events/LeadFields.js"
import { appendInbox } from "../../../core/2-ledger/Inbox.js"
import { listRecords } from "../../../core/5-tick/AudienceScan.js"
import { dryRun, getAudience } from "../../../core/5-tick/AudienceStatus.js"
import type { LeadFieldSettings } from "../../../core/5-tick/LeadFieldSync.js"
import { planSummary } from "../../../core/5-tick/PlanSummary.js"
import type { SyncSettings } from "../../../core/5-tick/SyncSettings.js"
import type { TickSummary } from "../../../core/5-tick/Tick.js"
import type { MarketoMemoryOptions } from "../../../core/ports/MarketoApiMemory.js"
import type { Email } from "../../../core/1-events/Email.js"
import type { LeadId, ListId } from "../../../core/1-events/Ids.js"
import type { AudienceDelta, PlannedEmail } from "../../../core/3-plan/PlannedEmail.js"
import { effectsFor, planSharedLeads, withLearned } from "../../../core/5-tick/SharedLeads.js"
import { type Api, harness, settings } from "./TickHarness.js"

const mapping = Either.getOrThrow(parseLeadFieldMapping("firstName=firstName|first_name,lastName=lastName"))
const onAdd: LeadFieldSettings = { send: ["firstName", "lastName"], update: "on-add" }
const always: LeadFieldSettings = { ...onAdd, update: "always" }

let clock = 0
const person = (audience: string, user: string, emails: ReadonlyArray<string>, member: boolean, traits: Record<string, unknown> = {}) => ({
  type: "identify",
  userId: user,
  messageId: `f${++clock}`,
  timestamp: new Date(Date.UTC(2026, 10, 20) + clock * 1000).toISOString(),
  traits: { ...traits, email: [...emails], [audience]: member },
  context: { personas: { computation_key: audience, computation_class: "audience" } }
})

const setup = (leadFields: LeadFieldSettings, options?: MarketoMemoryOptions, extra: Partial<SyncSettings> = {}, wrapApi?: (api: Api) => Api) =>
  Effect.gen(function*() {
    const h = yield* harness(options, undefined, wrapApi)
    const s: SyncSettings = { ...settings, ...extra, leadFields }
    const send = (events: ReadonlyArray<unknown>) => h.provide(appendInbox(Either.getOrThrow(decodeEvents(events, Date.UTC(2027, 0, 1), mapping))))
    const quiet = Effect.gen(function*() {
      const ticks: Array<TickSummary> = []
      for (let i = 0; i < 20; i++) {
        // An import's poll is due only once it can have ended (core/5-tick/ImportTiming.ts).
        if (i > 0) yield* TestClock.adjust("1 minute")
        const exit = yield* Effect.exit(h.tick(s))
        if (Exit.isFailure(exit)) continue
        ticks.push(exit.value)
        const inFlight = (yield* h.provide(listRecords())).some((r) => r.pendingImports.length > 0 || (r.imports?.length ?? 0) > 0)
        if (exit.value.inboxFolded === 0 && exit.value.calls === 0 && exit.value.audiences.every((a) => a.error === undefined) && !inFlight) return ticks
      }
      throw new Error("not quiet after 20 ticks")
    })
    const calls = Effect.map(h.control.state, (st) => st.calls)
    return { ...h, s, send, quiet, calls }
  })

describe("Sync: lead fields", () => {
  it.effect("a new member's lead is created with the names, by upsert, for every email of the member", () =>
    Effect.gen(function*() {
      const h = yield* setup(onAdd)
      yield* h.send([
        person("vip", "ada", ["ada@example.com", "ada@work.example.com"], true, { firstName: "Ada", lastName: "Lovelace" }),
        person("vip", "alan", ["alan@example.com"], true, { first_name: "Alan", lastName: "Turing, \"Jr.\"" }),
        person("vip", "nobody", ["plain@example.com"], true)
      ])
      yield* h.quiet
      expect(yield* h.control.members("vip")).toEqual(["ada@example.com", "ada@work.example.com", "alan@example.com", "plain@example.com"])
      expect(yield* h.control.fieldsOf("ada@example.com")).toEqual({ firstName: "Ada", lastName: "Lovelace" })
      expect(yield* h.control.fieldsOf("ada@work.example.com")).toEqual({ firstName: "Ada", lastName: "Lovelace" })
      expect(yield* h.control.fieldsOf("alan@example.com")).toEqual({ firstName: "Alan", lastName: "Turing, \"Jr.\"" })
      expect(yield* h.control.fieldsOf("plain@example.com")).toBeUndefined()
    }))

  it.effect("a large delta goes by import, its file carrying the names; upsert and import cost what they did without names", () =>
    Effect.gen(function*() {
      const h = yield* setup(onAdd)
      const events = Array.from({ length: 700 }, (_, i) => person("big", `u${i}`, [`u${i}@example.com`], true, { firstName: `First ${i}`, lastName: "Same" }))
      yield* h.send(events)
      const ticks = yield* h.quiet
      expect((yield* h.control.members("big")).length).toBe(700)
      expect(yield* h.control.fieldsOf("u42@example.com")).toEqual({ firstName: "First 42", lastName: "Same" })
      // Folder, list, one import and its poll: the names cost no call.
      expect(ticks.reduce((n, t) => n + t.calls, 0)).toBe(4)
    }))

  it.effect("on-add: a changed name of a member on the list is not sent; always: it is, once, and nothing is blanked", () =>
    Effect.gen(function*() {
      // The last run shares no lead call: the change goes as the audience's own UpdateLeads step.
      for (const [mode, extra] of [[onAdd, {}], [always, {}], [always, { sharedLeadsMaxEmails: 0 }]] as const) {
        const h = yield* setup(mode, undefined, extra)
        yield* h.send([person("vip", "ada", ["ada@example.com"], true, { firstName: "Ada", lastName: "Lovelace" })])
        yield* h.quiet
        const before = yield* h.calls
        // A newer event without a last name: the last name stays; an older one loses.
        yield* h.send([person("vip", "ada", ["ada@example.com"], true, { firstName: "Augusta" })])
        const ticks = yield* h.quiet
        const after = yield* h.calls
        if (mode.update === "on-add") {
          expect(after - before).toBe(0)
          expect(yield* h.control.fieldsOf("ada@example.com")).toEqual({ firstName: "Ada", lastName: "Lovelace" })
        } else {
          expect(after - before).toBe(1)
          expect(ticks[0]!.sharedCalls).toBe("sharedLeadsMaxEmails" in extra ? 0 : 1)
          expect(yield* h.control.fieldsOf("ada@example.com")).toEqual({ firstName: "Augusta", lastName: "Lovelace" })
          const record = yield* h.provide(getAudience("vip" as AudienceKey))
          expect(record._tag === "Some" ? record.value.synced : -1).toBe(1)
        }
      }
    }))

  it.effect("a dry run and the kept plan summary plan what a tick with the same lead fields would send", () =>
    Effect.gen(function*() {
      const h = yield* setup(always)
      yield* h.send([person("vip", "ada", ["ada@example.com"], true, { firstName: "Ada", lastName: "Lovelace" })])
      yield* h.quiet
      yield* h.send([person("vip", "ada", ["ada@example.com"], true, { firstName: "Augusta" })])
      yield* h.tick({ ...h.s, deadline: 0 }) // fold only
      const vip = "vip" as AudienceKey
      const withFields = yield* h.provide(planSummary(vip, h.s))
      const withoutFields = yield* h.provide(planSummary(vip, settings))
      // The changed name is an update only for a deployment that sends names, always.
      expect(Option.getOrThrow(withFields).steps.join(",")).toMatch(/UpdateLeads|UpsertLeads/)
      expect(Option.getOrThrow(withoutFields).steps).toEqual([])
      // Each equals a fresh dry run with the same settings: the summary kept for one is not served for the other.
      for (const [summary, s] of [[withFields, h.s], [withoutFields, settings]] as const) {
        const fresh = Option.getOrThrow(yield* h.provide(dryRun(vip, s)))
        expect(Option.getOrThrow(summary).calls).toBe(fresh.calls)
      }
      expect(Option.getOrThrow(yield* h.provide(planSummary(vip, h.s)))).toEqual(Option.getOrThrow(withFields))
    }))

  it.effect("always: one upsert sends a member's new name for every list it is on, and no list calls are made", () =>
    Effect.gen(function*() {
      const h = yield* setup(always)
      const audiences = ["a", "b", "c"]
      yield* h.send(audiences.flatMap((aud) => [
        person(aud, "ada", ["ada@example.com"], true, { firstName: "Ada" }),
        person(aud, "grace", ["grace@example.com"], true, { firstName: "Grace" })
      ]))
      yield* h.quiet
      const before = yield* h.calls
      yield* h.send(audiences.map((aud) => person(aud, "ada", ["ada@example.com"], true, { firstName: "Augusta" })))
      const ticks = yield* h.quiet
      expect((yield* h.calls) - before).toBe(1)
      expect(ticks[0]!.sharedCalls).toBe(1)
      expect(yield* h.control.fieldsOf("ada@example.com")).toEqual({ firstName: "Augusta" })
      expect(yield* h.control.fieldsOf("grace@example.com")).toEqual({ firstName: "Grace" })
    }))

  it.effect("always: a lead gone from Marketo is created again by the update and put back on the list", () =>
    Effect.gen(function*() {
      const h = yield* setup(always)
      yield* h.send([person("vip", "ada", ["ada@example.com"], true, { firstName: "Ada" })])
      yield* h.quiet
      yield* h.control.deleteLead("ada@example.com")
      expect(yield* h.control.members("vip")).toEqual([])
      yield* h.send([person("vip", "ada", ["ada@example.com"], true, { firstName: "Augusta" })])
      yield* h.quiet
      expect(yield* h.control.members("vip")).toEqual(["ada@example.com"])
      expect(yield* h.control.fieldsOf("ada@example.com")).toEqual({ firstName: "Augusta" })
    }))

  it.effect("always: an update Marketo skips leaves the member on the list, not refused, and is not sent again until the values change", () =>
    Effect.gen(function*() {
      let skip = false
      let skipped = 0
      const skipping = (api: Api): Api => ({
        ...api,
        upsertLeads: (emails, fields) =>
          skip
            ? Effect.sync(() => (skipped++, emails.map((email) => ({ email, status: "skipped" as const, reasons: [{ code: "1003", message: "Invalid value" }] }))))
            : api.upsertLeads(emails, fields)
      })
      const h = yield* setup(always, undefined, { sharedLeadsMaxEmails: 0 }, skipping)
      yield* h.send([person("vip", "ada", ["ada@example.com"], true, { firstName: "Ada" })])
      yield* h.quiet
      skip = true
      yield* h.send([person("vip", "ada", ["ada@example.com"], true, { firstName: "x".repeat(300) })])
      const before = yield* h.calls
      const ticks = yield* h.quiet
      expect([(yield* h.calls) - before, skipped]).toEqual([0, 1])
      expect(ticks[0]!.audiences[0]!.error).toBeUndefined()
      const view = yield* h.provide(getAudience("vip" as AudienceKey))
      expect(view._tag === "Some" ? [view.value.synced, view.value.refused] : []).toEqual([1, 0])
    }))

  it.effect("a lead partition Marketo refuses is the audience's error, named with its setting; its emails are not refused", () =>
    Effect.gen(function*() {
      const h = yield* setup(onAdd, { refuse: new Map([["ada@example.com", "1009"]]) })
      yield* h.send([person("vip", "ada", ["ada@example.com"], true, { firstName: "Ada" })])
      const summary = yield* h.tick(h.s)
      expect(summary.audiences[0]!.error).toMatchObject({ code: "1009" })
      expect(summary.audiences[0]!.error!.message).toMatch(/MARKETO_PARTITION/)
      const view = yield* h.provide(getAudience("vip" as AudienceKey))
      expect(view._tag === "Some" ? [view.value.refused, view.value.pending.add] : []).toEqual([0, 1])
    }))

  it.effect("only the fields the instance accepts are sent; the others stay in the ledger", () =>
    Effect.gen(function*() {
      const h = yield* setup({ send: ["lastName"], update: "always" })
      yield* h.send([person("vip", "ada", ["ada@example.com"], true, { firstName: "Ada", lastName: "Lovelace" })])
      yield* h.quiet
      expect(yield* h.control.fieldsOf("ada@example.com")).toEqual({ lastName: "Lovelace" })
      // A change of a field that is not sent costs at most one call, then nothing.
      const before = yield* h.calls
      yield* h.send([person("vip", "ada", ["ada@example.com"], true, { firstName: "Augusta" })])
      yield* h.quiet
      yield* h.quiet
      expect((yield* h.calls) - before).toBeLessThanOrEqual(1)
    }))

  it.effect("always: a tick killed at any call still ends with the newest names in Marketo and nothing left to send", () =>
    Effect.gen(function*() {
      const script = (h: Effect.Effect.Success<ReturnType<typeof setup>>) =>
        Effect.gen(function*() {
          yield* h.send(Array.from({ length: 5 }, (_, i) => person("vip", `u${i}`, [`u${i}@example.com`], true, { firstName: `One ${i}` })))
          yield* h.quiet
          yield* h.send(Array.from({ length: 5 }, (_, i) => person("vip", `u${i}`, [`u${i}@example.com`], true, { firstName: `Two ${i}` })))
          yield* h.quiet
          const names = yield* Effect.forEach([0, 1, 2, 3, 4], (i) => h.control.fieldsOf(`u${i}@example.com`))
          const view = yield* h.provide(getAudience("vip" as AudienceKey))
          return { names, synced: view._tag === "Some" ? view.value.synced : -1 }
        })
      const expected = { names: [0, 1, 2, 3, 4].map((i) => ({ firstName: `Two ${i}` })), synced: 5 }
      const baseline = yield* setup(always)
      expect(yield* script(baseline)).toEqual(expected)
      const total = yield* baseline.calls
      for (let k = 1; k <= total; k++) {
        const crashed = yield* setup(always)
        yield* crashed.control.crashAtCall(k)
        expect(yield* script(crashed)).toEqual(expected)
      }
    }))
})

describe("SharedLeads: lead fields", () => {
  const planned = (email: string, first: string, at: number, leadIds?: Array<number>): PlannedEmail => ({
    email: email as Email,
    ...(leadIds === undefined ? {} : { leadIds: leadIds as Array<LeadId> }),
    fields: { values: { firstName: first }, at, digest: `d-${first}` }
  })
  const delta = (audience: string, add: Array<PlannedEmail>, update: Array<PlannedEmail>): AudienceDelta => ({
    audience: audience as AudienceKey, listName: audience, folderName: "Engage Audiences", listId: 1 as ListId, add, remove: [], update, pendingImports: []
  })

  it("one upsert per email for every list, adds first, with the newest fields where audiences disagree", () => {
    const plan = planSharedLeads([
      delta("a", [planned("new@example.com", "Old", 1)], [planned("ada@example.com", "Ada", 5, [7])]),
      delta("b", [planned("new@example.com", "Newer", 2)], [planned("ada@example.com", "Augusta", 9, [7])])
    ], 3_000)
    expect(plan.upserts).toEqual([["new@example.com", "ada@example.com"]])
    expect(plan.fields.get("new@example.com" as Email)?.values).toEqual({ firstName: "Newer" })
    expect(plan.fields.get("ada@example.com" as Email)?.values).toEqual({ firstName: "Augusta" })
    expect(planSharedLeads([delta("a", [], [planned("ada@example.com", "Ada", 5, [7])])], 0).upserts).toEqual([])
  })

  it("each audience's fields count as sent by its own digest; an update whose lead was created is off the list", () => {
    const d = delta("a", [planned("new@example.com", "Old", 1)], [planned("ada@example.com", "Ada", 5, [7]), planned("late@example.com", "L", 1, [8])])
    const shared = new Map([
      ["new@example.com" as Email, { _tag: "Found" as const, leadIds: [11 as LeadId], sent: true as const }],
      ["ada@example.com" as Email, { _tag: "Found" as const, leadIds: [12 as LeadId], sent: true as const, created: true as const }]
    ])
    const effects = effectsFor(d, shared)
    expect(effects).toContainEqual({ _tag: "FieldsSent", sent: [{ email: "new@example.com", digest: "d-Old" }, { email: "ada@example.com", digest: "d-Ada" }] })
    expect(effects).toContainEqual({ _tag: "MembershipConfirmed", emails: ["ada@example.com"], synced: false })
    const after = withLearned(d, effects)
    expect(after.update?.map((e) => e.email)).toEqual(["late@example.com"])
    expect(after.add.map((e) => e.leadIds)).toEqual([[11]])
  })
})

describe("dry run with lead fields", () => {
  it.effect("shows the changed values to send as UpdateLeads steps, with their calls", () =>
    Effect.gen(function*() {
      const h = yield* setup({ ...always })
      yield* h.send([person("dry", "ada", ["ada@example.com"], true, { firstName: "Ada" })])
      yield* h.quiet
      // Folded only (no sync): the next plan has the change to send.
      yield* h.send([person("dry", "ada", ["ada@example.com"], true, { firstName: "Augusta" })])
      yield* h.tick({ ...h.s, deadline: 0 })
      const planned = yield* h.provide(dryRun("dry" as AudienceKey, { ...h.s }))
      expect(planned._tag === "Some" ? [planned.value.plan.steps.map((s) => s._tag), planned.value.calls] : []).toEqual([["UpdateLeads"], 1])
      const without = yield* h.provide(dryRun("dry" as AudienceKey, { folderName: h.s.folderName, budget: h.s.budget }))
      expect(without._tag === "Some" ? without.value.plan.steps : undefined).toEqual([])
    }))
})
