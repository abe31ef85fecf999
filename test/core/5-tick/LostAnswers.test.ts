// A call that ran in Marketo but whose answer never reached the sync: the tick killed right after
// the call's effect, or the answer lost on the way (the client surfaces MarketoAnswerLost for an
// import or a list's creation, and has retried the others). Lists end exact, no lead is created
// twice, an import is never sent again before the sync has found out what the first one did, and
// a list's creation ends in adoption.
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { MarketoAnswerLost } from "../../../core/marketo/MarketoErrors.js"
import { event, harness, namingCalls } from "./TickHarness.js"

/** Imports run in 30 s whether they are polled or not, as Marketo's do. */
const timed = { importMillis: 30_000 }

type Harness = Effect.Effect.Success<ReturnType<typeof harness>>

// Two lists: one created and filled by an import of 320 new members (with a later exit of most of
// them), one filled by upsert + add; lead ids cached, looked up, upserted and shared.
const script = (h: Harness) =>
  Effect.gen(function*() {
    yield* h.send([
      event("vip", "u1", ["a@example.com", "b@example.com"], true),
      event("vip", "u2", ["c@example.com"], true),
      event("news", "u2", ["c@example.com"], true),
      ...Array.from({ length: 320 }, (_, i) => event("vip", `n${i}`, [`n${i}@example.com`], true))
    ])
    yield* h.untilQuiet
    yield* h.send([
      event("vip", "u1", ["a@example.com", "b@example.com"], false),
      event("vip", "u3", ["d@example.com"], true),
      event("news", "u3", ["d@example.com"], true),
      ...Array.from({ length: 310 }, (_, i) => event("vip", `n${i}`, [`n${i}@example.com`], false))
    ])
    yield* h.untilQuiet
    return { vip: yield* h.control.members("vip"), news: yield* h.control.members("news") }
  })
const expected = {
  vip: ["c@example.com", "d@example.com", ...Array.from({ length: 10 }, (_, i) => `n${310 + i}@example.com`)].sort(),
  news: ["c@example.com", "d@example.com"]
}

describe("Sync: answers lost after the call ran", () => {
  it.effect("a tick killed after the effect of every call k: lists exact, no lead duplicated, no import sent again unlooked-for, waste bounded", () =>
    Effect.gen(function*() {
      const names: Array<string> = []
      const baseline = yield* harness(timed, undefined, namingCalls(names))
      expect(yield* script(baseline)).toEqual(expected)
      const total = names.length
      const imports = names.filter((n) => n === "importCsv").length
      const lists = (yield* baseline.control.state).lists.size
      const leads = (yield* baseline.control.state).leads.size
      expect(imports).toBe(1)
      for (let k = 1; k <= total; k++) {
        const seen: Array<string> = []
        const crashed = yield* harness(timed, undefined, namingCalls(seen))
        yield* crashed.control.crashAfterCall(k)
        expect(yield* script(crashed)).toEqual(expected)
        const state = yield* crashed.control.state
        expect(state.leads.size).toBe(leads)
        expect(state.lists.size).toBe(lists)
        // The import that ran is found on the list (a lookup and a membership check), never sent again.
        expect(seen.filter((n) => n === "importCsv").length).toBe(imports)
        // What the kill cost: the call whose answer was lost made again when that is harmless (its
        // step, or the tick's shared lead calls journaled together, three here), a list created
        // again found by name (709 then a lookup), an import looked for instead of polled.
        expect(seen.length).toBeLessThanOrEqual(total + 3)
      }
    }), { timeout: 120_000 })

  it.effect("the answer of every call k lost (the call ran): lists exact, no lead duplicated, no import sent again unlooked-for", () =>
    Effect.gen(function*() {
      const names: Array<string> = []
      const baseline = yield* harness(timed, undefined, namingCalls(names))
      expect(yield* script(baseline)).toEqual(expected)
      const leads = (yield* baseline.control.state).leads.size
      for (let k = 1; k <= names.length; k++) {
        const seen: Array<string> = []
        const lost = yield* harness(timed, undefined, namingCalls(seen))
        yield* lost.control.loseAnswer(k)
        expect(yield* script(lost)).toEqual(expected)
        expect((yield* lost.control.state).leads.size).toBe(leads)
        expect((yield* lost.control.state).lists.size).toBe(2)
        expect(seen.filter((n) => n === "importCsv").length).toBe(1)
        expect(seen.length).toBeLessThanOrEqual(names.length + 3)
      }
    }), { timeout: 120_000 })

  it.effect("an import whose answer was lost is looked for, not sent again: found on the list, its rows count as added", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const h = yield* harness(timed, undefined, namingCalls(seen))
      yield* h.send(Array.from({ length: 1_000 }, (_, i) => event("vip", `n${i}`, [`n${i}@example.com`], true)))
      // Folder, list, then the import: its answer is lost after Marketo queued it.
      yield* h.control.loseAnswer(3)
      yield* h.untilQuiet
      expect(yield* h.control.members("vip")).toHaveLength(1_000)
      expect(seen.filter((n) => n === "importCsv")).toHaveLength(1)
      // Looked for once it was due: a lookup of a sample and one membership check (no poll: no batch id).
      expect(seen.slice(3)).toEqual(["lookupLeads", "listHasLeads"])
    }))

  it.effect("an import that never reached Marketo is looked for until it is given up on, then sent again", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const h = yield* harness(timed, undefined, namingCalls(seen))
      yield* h.send(Array.from({ length: 1_000 }, (_, i) => event("vip", `n${i}`, [`n${i}@example.com`], true)))
      // The connection drops before Marketo took the file: the same error, nothing queued.
      yield* h.control.failCall(3, new MarketoAnswerLost({ code: "network", message: "the request to Marketo did not complete" }))
      yield* h.untilQuiet
      expect(yield* h.control.members("vip")).toHaveLength(1_000)
      expect(seen.filter((n) => n === "importCsv")).toHaveLength(2)
      // Looked for three times (after a minute, then every five): no lead for any of the sample (new
      // members), so no membership check either; given up after eleven minutes, sent again, polled.
      expect(seen.slice(3)).toEqual(["lookupLeads", "lookupLeads", "lookupLeads", "importCsv", "importStatus"])
    }))

  it.effect("a list's creation whose answer was lost ends in adoption: the list is found by name, never made twice", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const h = yield* harness(timed, undefined, namingCalls(seen))
      yield* h.send([event("vip", "u1", ["a@example.com"], true)])
      yield* h.control.loseAnswer(2)
      yield* h.untilQuiet
      expect(yield* h.control.members("vip")).toEqual(["a@example.com"])
      expect((yield* h.control.state).lists.size).toBe(1)
      expect(seen).toEqual(["findFolders", "createStaticList", "findStaticList", "upsertLeads", "addToList"])
    }))

  it.effect("a list's creation that never ran is made once more", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      const h = yield* harness(timed, undefined, namingCalls(seen))
      yield* h.send([event("vip", "u1", ["a@example.com"], true)])
      yield* h.control.failCall(2, new MarketoAnswerLost({ code: "HTTP 502", message: "Marketo's edge failed" }))
      yield* h.untilQuiet
      expect(yield* h.control.members("vip")).toEqual(["a@example.com"])
      expect(seen).toEqual(["findFolders", "createStaticList", "findStaticList", "createStaticList", "upsertLeads", "addToList"])
    }))
})
