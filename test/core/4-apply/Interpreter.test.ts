import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Option } from "effect"
import type { Email } from "../../../core/1-events/Email.js"
import type { AudienceKey, FolderId, ImportBatchId, LeadId, ListId } from "../../../core/1-events/Ids.js"
import { applyStep, chooseFolder, type StepContext } from "../../../core/4-apply/Interpreter.js"
import type { EmailRecord } from "../../../core/2-ledger/LedgerShard.js"
import { MarketoRateLimited, MarketoRejected } from "../../../core/marketo/MarketoErrors.js"
import { AddToList, EnsureFolder, EnsureList, ImportLeads, LookupLeads, PollImport, RemoveFromList, type Step, UpsertLeads } from "../../../core/3-plan/Plan.js"
import { type Folder, MarketoApi } from "../../../core/ports/MarketoApi.js"
import { defaultFolder, makeMarketoMemory, type MarketoMemoryOptions } from "../../../core/ports/MarketoApiMemory.js"
import { StateStore } from "../../../core/ports/StateStore.js"
import { StateKeys } from "../../../core/2-ledger/StateKeys.js"
import { makeStateStoreMemory } from "../../../core/ports/StateStoreMemory.js"

const audience = "vip" as AudienceKey
const folderName = defaultFolder.name
const e = (s: string) => s as Email
const batch = (...emails: Array<string>) => emails.map(e) as unknown as readonly [Email, ...Array<Email>]
const folder = (id: number, type: string, path: string): Folder => ({ id: id as FolderId, name: folderName, type, path })

const harness = (options?: MarketoMemoryOptions) =>
  Effect.gen(function*() {
    const { api, control } = yield* makeMarketoMemory(options)
    const store = yield* makeStateStoreMemory()
    const records = new Map<string, EmailRecord>()
    let listId = Option.none<ListId>()
    const context: StepContext = { get listId() { return listId }, recordOf: (email) => records.get(email) }
    const run = (step: Step) =>
      applyStep(step, context).pipe(Effect.provideService(MarketoApi, api), Effect.provideService(StateStore, store))
    const calls = Effect.map(control.state, (s) => s.calls)
    const useList = Effect.gen(function*() {
      const id = yield* control.addList("vip", defaultFolder.id)
      listId = Option.some(id)
      return id
    })
    const remember = (email: string, record: Partial<EmailRecord>) =>
      records.set(email, { holders: [], synced: false, ...record })
    return { api, control, store, run, calls, useList, remember }
  })

describe("chooseFolder", () => {
  it("takes a Folder (any case) over a Program, one under Group Lists first, then the lowest id", () => {
    const program = folder(1, "Program", "/Marketing Activities/Engage Audiences")
    const elsewhere = folder(2, "folder", "/Lead Database/Engage Audiences")
    const groupHigh = folder(9, "Folder", "/Lead Database/Group Lists/Engage Audiences")
    const groupLow = folder(7, "FOLDER", "/Lead Database/Group Lists/Team/Engage Audiences")
    expect(chooseFolder([program, elsewhere, groupHigh, groupLow])).toEqual(Option.some(groupLow))
    expect(chooseFolder([groupHigh, groupLow, elsewhere, program])).toEqual(Option.some(groupLow))
    expect(chooseFolder([program, elsewhere])).toEqual(Option.some(elsewhere))
    expect(chooseFolder([program])).toEqual(Option.none())
  })

  it("prefers the name exactly as configured, and ignores folders of another name", () => {
    const lower = { ...folder(3, "Folder", "/Lead Database/Group Lists/engage audiences"), name: "engage audiences" }
    const exact = folder(8, "Folder", "/Lead Database/Engage Audiences")
    const other = { ...folder(1, "Folder", "/Lead Database/Group Lists/Engage"), name: "Engage" }
    expect(chooseFolder([lower, exact, other], folderName)).toEqual(Option.some(exact))
    expect(chooseFolder([lower, other], folderName)).toEqual(Option.some(lower))
    expect(chooseFolder([other], folderName)).toEqual(Option.none())
  })
})

describe("Interpreter", () => {
  it.effect("EnsureFolder finds the folder once, then answers from the cache", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      expect(yield* h.run(new EnsureFolder({ folderName }))).toEqual([])
      expect(yield* h.calls).toBe(1)
      expect(yield* h.run(new EnsureFolder({ folderName }))).toEqual([])
      expect(yield* h.calls).toBe(1)
      expect(Option.isSome(yield* h.store.get(StateKeys.folder))).toBe(true)
    }))

  it.effect("EnsureFolder names the fix when the folder does not exist", () =>
    Effect.gen(function*() {
      const h = yield* harness({ folders: [folder(3, "Program", "/Marketing Activities/Engage Audiences")] })
      const error = yield* Effect.flip(h.run(new EnsureFolder({ folderName })))
      expect(error).toMatchObject({ _tag: "MarketoRejected", code: "710" })
      expect(error.message).toBe(
        `folder "${folderName}" not found in Marketo: create it under Lead Database → Group Lists, or set MARKETO_FOLDER`
      )
    }))

  it.effect("EnsureList uses a list the sender named once one call shows it is in the folder", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.run(new EnsureFolder({ folderName }))
      const named = yield* h.control.addList("crm list", defaultFolder.id)
      const effects = yield* h.run(new EnsureList({ audience, listName: "vip", folderName, listId: named }))
      expect(effects).toEqual([{ _tag: "ListEnsured", listId: named, folderId: defaultFolder.id }])
      // The folder came from the cache; the list's folder from one Asset API call.
      expect(yield* h.calls).toBe(2)
      expect([...(yield* h.control.state).lists.values()].map((l) => l.name)).toEqual(["crm list"])
    }))

  it.effect("EnsureList refuses a list the sender named outside the folder, or one that does not exist, naming why", () =>
    Effect.gen(function*() {
      const other = { id: 5 as FolderId, name: "Campaign triggers", type: "Folder", path: "/Lead Database/Group Lists/Campaign triggers" }
      const h = yield* harness({ folders: [defaultFolder, other] })
      const outside = yield* h.control.addList("send the welcome mail", other.id)
      const error = yield* Effect.flip(h.run(new EnsureList({ audience, listName: "vip", folderName, listId: outside })))
      expect(error).toMatchObject({ _tag: "MarketoRejected", code: "external-list" })
      expect(error.message).toBe(
        `external_audience_id ${outside} of audience "vip" names list "send the welcome mail", which is outside folder "${folderName}": nothing is written to it. ` +
          `Move the list into folder "${folderName}", or remove the audience and send its events without external_audience_id`
      )
      const missing = yield* Effect.flip(h.run(new EnsureList({ audience, listName: "vip", folderName, listId: 987_654 as ListId })))
      expect(missing.message).toMatch(/^external_audience_id 987654 of audience "vip" names no static list in Marketo: nothing is written to it\. Move/)
    }))

  it.effect("EnsureList creates the list in the folder, and adopts one of the same name already there", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      const [created] = yield* h.run(new EnsureList({ audience, listName: "fresh", folderName }))
      const state = yield* h.control.state
      const made = [...state.lists.values()].find((l) => l.name === "fresh")
      expect(created).toEqual({ _tag: "ListEnsured", listId: made?.id, folderId: defaultFolder.id })
      const existing = yield* h.control.addList("vip", defaultFolder.id)
      const [adopted] = yield* h.run(new EnsureList({ audience, listName: "vip", folderName }))
      expect(adopted).toMatchObject({ _tag: "ListEnsured", listId: existing })
      expect((yield* h.control.state).lists.size).toBe(2)
    }))

  it.effect("EnsureList refuses a same-named list outside the folder, naming its id", () =>
    Effect.gen(function*() {
      const other = { id: 5 as FolderId, name: "Other", type: "Folder", path: "/Lead Database/Group Lists/Other" }
      const h = yield* harness({ folders: [defaultFolder, other] })
      const id = yield* h.control.addList("vip", other.id)
      const error = yield* Effect.flip(h.run(new EnsureList({ audience, listName: "vip", folderName })))
      expect(error).toMatchObject({ _tag: "MarketoRejected", code: "709" })
      expect(error.message).toContain(`list id ${id}`)
      expect(error.message).toContain(`outside folder "${folderName}"`)
    }))

  it.effect("EnsureList forgets a cached folder that Marketo no longer has", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.store.set(StateKeys.folder, JSON.stringify({ name: folderName, id: 4242 }))
      const error = yield* Effect.flip(h.run(new EnsureList({ audience, listName: "vip", folderName })))
      expect(error).toMatchObject({ code: "710" })
      expect(yield* h.store.get(StateKeys.folder)).toEqual(Option.none())
      expect(yield* h.run(new EnsureList({ audience, listName: "vip", folderName }))).toMatchObject([{ _tag: "ListEnsured" }])
    }))

  it.effect("UpsertLeads learns ids, refuses what Marketo skips, and looks up duplicated emails", () =>
    Effect.gen(function*() {
      const h = yield* harness({ refuse: new Map([["bad@example.com", "1003"]]) })
      const d1 = yield* h.control.addLead("dup@example.com")
      const d2 = yield* h.control.addLead("DUP@example.com")
      const effects = yield* h.run(new UpsertLeads({ audience, emails: batch("a@example.com", "bad@example.com", "dup@example.com") }))
      const learned = effects.find((x) => x._tag === "LeadIdsLearned")
      expect(learned?._tag === "LeadIdsLearned" && learned.ids.map((i) => [i.email, i.leadIds.length])).toEqual([
        ["a@example.com", 1],
        ["dup@example.com", 2]
      ])
      expect(learned?._tag === "LeadIdsLearned" && learned.ids[1]?.leadIds).toEqual([d1, d2])
      expect(effects.find((x) => x._tag === "EmailsRefused")).toEqual({
        _tag: "EmailsRefused",
        refused: [{ email: "bad@example.com", code: "1003" }]
      })
      expect(yield* h.calls).toBe(2) // the upsert, and one lookup for the duplicate
    }))

  it.effect("LookupLeads keeps every duplicate, and an email with no lead is known to be off the list", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      const d1 = yield* h.control.addLead("dup@example.com")
      const d2 = yield* h.control.addLead("dup@example.com")
      const effects = yield* h.run(new LookupLeads({ audience, emails: batch("dup@example.com", "none@example.com"), method: "GET" }))
      expect(effects).toEqual([
        { _tag: "LeadIdsLearned", ids: [{ email: "dup@example.com", leadIds: [d1, d2] }] },
        { _tag: "MembershipConfirmed", emails: ["none@example.com"], synced: false }
      ])
    }))

  it.effect("AddToList adds every lead of each email; a lead Marketo no longer has is forgotten", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.useList
      const a = yield* h.control.addLead("a@example.com")
      const d1 = yield* h.control.addLead("dup@example.com")
      const d2 = yield* h.control.addLead("dup@example.com")
      h.remember("a@example.com", { leadIds: [a] })
      h.remember("dup@example.com", { leadIds: [d1, d2] })
      h.remember("gone@example.com", { leadIds: [999_999 as LeadId] })
      h.remember("bad@example.com", { refused: "1003" })
      const effects = yield* h.run(new AddToList({ audience, emails: batch("a@example.com", "bad@example.com", "dup@example.com", "gone@example.com") }))
      expect(effects).toEqual([
        { _tag: "MembershipConfirmed", emails: ["a@example.com", "dup@example.com"], synced: true },
        { _tag: "LeadIdsLearned", ids: [{ email: "gone@example.com", leadIds: [] }] }
      ])
      expect(yield* h.control.members("vip")).toEqual(["a@example.com", "dup@example.com", "dup@example.com"])
    }))

  it.effect("AddToList dies on an email whose lead id no step has learned: the plan is wrong", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.useList
      h.remember("a@example.com", {})
      const exit = yield* Effect.exit(h.run(new AddToList({ audience, emails: batch("a@example.com") })))
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      expect(String(Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "")).toContain("no lead id known for 1 email(s), e.g. a@example.com")
      expect(yield* h.calls).toBe(0)
    }))

  it.effect("RemoveFromList: removed and not a member (1015) leave the email off the list; a lead gone (1004, merged) is looked up again and its email's leads now removed", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      const listId = yield* h.useList
      const a = yield* h.control.addLead("a@example.com")
      const b = yield* h.control.addLead("b@example.com")
      yield* h.api.addToList(listId, [a])
      h.remember("a@example.com", { leadIds: [a], synced: true })
      h.remember("b@example.com", { leadIds: [b], synced: true })
      h.remember("gone@example.com", { leadIds: [999_999 as LeadId], synced: true })
      h.remember("nolead@example.com", { synced: false }) // a lookup found no lead
      const effects = yield* h.run(new RemoveFromList({ audience, emails: batch("a@example.com", "b@example.com", "gone@example.com", "nolead@example.com") }))
      expect(effects).toEqual([
        { _tag: "MembershipConfirmed", emails: ["a@example.com", "b@example.com"], synced: false },
        { _tag: "LeadIdsLearned", ids: [{ email: "gone@example.com", leadIds: [] }] },
        { _tag: "MembershipConfirmed", emails: ["gone@example.com"], synced: false }
      ])
      expect(yield* h.control.members("vip")).toEqual([])
    }))

  it.effect("ImportLeads starts an import; PollImport waits while it runs and reports failed rows when complete", () =>
    Effect.gen(function*() {
      const h = yield* harness({ pollsUntilComplete: 1, refuse: new Map([["bad@example.com", "1003"]]) })
      yield* h.useList
      const started = yield* h.run(new ImportLeads({ audience, emails: batch("a@example.com", "bad@example.com"), csvBytes: 40 }))
      expect(started).toMatchObject([{ _tag: "ImportStarted", emails: ["a@example.com", "bad@example.com"] }])
      const batchId = started[0]?._tag === "ImportStarted" ? started[0].batchIds[0]! : (0 as ImportBatchId)
      expect(yield* h.run(new PollImport({ audience, batchId }))).toEqual([])
      expect(yield* h.run(new PollImport({ audience, batchId }))).toEqual([
        { _tag: "ImportEnded", batchId, status: "Complete", failed: [{ email: "bad@example.com", code: "1003" }] }
      ])
      expect(yield* h.control.members("vip")).toEqual(["a@example.com"])
    }))

  it.effect("PollImport reports a failed import so its emails are planned again", () =>
    Effect.gen(function*() {
      const h = yield* harness({ failImports: true })
      yield* h.useList
      const [started] = yield* h.run(new ImportLeads({ audience, emails: batch("a@example.com"), csvBytes: 20 }))
      const batchId = started?._tag === "ImportStarted" ? started.batchIds[0]! : (0 as ImportBatchId)
      expect(yield* h.run(new PollImport({ audience, batchId }))).toEqual([{ _tag: "ImportEnded", batchId, status: "Failed", failed: [] }])
    }))

  it.effect("a response-level failure is the step's failure, with its tag and code", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.useList
      yield* h.control.failNext(new MarketoRateLimited({ code: "606", message: "rate", retryAfterMillis: 20_000 }))
      yield* h.control.failNext(new MarketoRejected({ code: "1003", message: "bad" }))
      expect(yield* Effect.flip(h.run(new UpsertLeads({ audience, emails: batch("a@example.com") })))).toMatchObject({ _tag: "MarketoRateLimited", code: "606" })
      expect(yield* Effect.flip(h.run(new UpsertLeads({ audience, emails: batch("a@example.com") })))).toMatchObject({ _tag: "MarketoRejected", code: "1003" })
      expect(yield* h.run(new UpsertLeads({ audience, emails: batch("a@example.com") }))).toMatchObject([{ _tag: "LeadIdsLearned" }])
    }))
  it.effect("ImportLeads marks each email with the job that carries it when the client sends several files", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.useList
      const emails = Array.from({ length: 500_000 }, (_, i) => e(`user${String(i).padStart(7, "0")}@example.com`))
      const api = { ...h.api, importLeads: () => Effect.succeed([{ batchId: 11 as ImportBatchId }, { batchId: 12 as ImportBatchId }]) }
      const step = new ImportLeads({ audience, emails: emails as unknown as readonly [Email, ...Array<Email>], csvBytes: 1 }, { disableValidation: true })
      const effects = yield* applyStep(step, { listId: Option.some(1 as ListId), recordOf: () => undefined }).pipe(
        Effect.provideService(MarketoApi, api),
        Effect.provideService(StateStore, h.store)
      )
      const started = effects.flatMap((x) => (x._tag === "ImportStarted" ? [{ ids: x.batchIds, n: x.emails.length, first: x.emails[0] }] : []))
      expect(started.map((x) => x.ids)).toEqual([[11], [12]])
      expect(started[0]!.n + started[1]!.n).toBe(500_000)
      expect(started[1]!.first).toBe(emails[started[0]!.n])
    }))
})
