// One audience's problem is that audience's problem: a fold, a plan or a record that fails stops
// that audience alone, its changes wait (then move to the quarantine), and every other audience
// is folded and synced in the same tick.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, TestClock } from "effect"
import type { AudienceKey } from "../../../core/1-events/Ids.js"
import { quarantineView, retryQuarantine } from "../../../core/2-ledger/Quarantine.js"
import { StateKeys } from "../../../core/2-ledger/StateKeys.js"
import { getAudience } from "../../../core/5-tick/AudienceStatus.js"
import { quarantineAfterMillis } from "../../../core/5-tick/FoldInbox.js"
import { StateStoreFailure, type StateStoreService } from "../../../core/ports/StateStore.js"
import { event, harness } from "./TickHarness.js"

/** A store whose writes (or reads) of one audience's keys fail while `broken` is set. */
const breakAudience = (audience: string, what: "writes" | "reads") => {
  const state = { broken: true }
  const own = (key: string) => key.startsWith(`${StateKeys.audience(audience as AudienceKey)}/`)
  const fail = (key: string) => Effect.fail(new StateStoreFailure({ key, message: `disk full for ${audience}` }))
  const wrap = (s: StateStoreService): StateStoreService => ({
    ...s,
    ...(what === "writes"
      ? { setMany: (entries) => (state.broken && entries.some(([k]) => own(k)) ? fail(entries[0]![0]) : s.setMany(entries)) }
      : { getMany: (keys) => (state.broken && keys.some(own) ? fail(keys[0]!) : s.getMany(keys)) })
  })
  return { state, wrap }
}

describe("Sync: failure isolation", () => {
  it.effect("a fold that fails stops its audience alone; its changes wait, then go to the quarantine, and come back on retry", () =>
    Effect.gen(function*() {
      const broken = breakAudience("bad", "writes")
      const h = yield* harness(undefined, broken.wrap)
      yield* h.send([event("bad", "u1", ["a@example.com"], true), event("good", "u2", ["b@example.com"], true)])
      const first = yield* h.tick()
      expect(first.foldFailures).toMatchObject([{ audience: "bad", tag: "StateStoreFailure", quarantined: false }])
      expect(yield* h.control.members("good")).toEqual(["b@example.com"])
      // Young failures wait in the inbox: a short outage heals by itself.
      expect(yield* h.inner.list(StateKeys.inboxPrefix)).toHaveLength(1)
      expect(Option.getOrThrow(yield* h.provide(getAudience("bad" as AudienceKey))).lastError).toMatchObject({ tag: "StateStoreFailure", code: "fold" })
      // A failure that lasts: the changes move to the quarantine, the entry goes, the others go on.
      yield* TestClock.adjust(quarantineAfterMillis)
      yield* h.send([event("good", "u3", ["c@example.com"], true)])
      const later = yield* h.tick()
      expect(later.foldFailures).toMatchObject([{ audience: "bad", quarantined: true }])
      expect(yield* h.inner.list(StateKeys.inboxPrefix)).toEqual([])
      expect(yield* h.control.members("good")).toEqual(["b@example.com", "c@example.com"])
      const view = yield* h.provide(quarantineView())
      expect(view).toMatchObject({ count: 1, entries: 1, reasons: [{ audience: "bad", tag: "StateStoreFailure", message: "disk full for bad" }] })
      // The cause is fixed; the operator retries; the list converges.
      broken.state.broken = false
      expect(yield* h.provide(retryQuarantine())).toEqual({ retried: 1, unreadable: 0 })
      yield* h.untilQuiet
      expect(yield* h.control.members("bad")).toEqual(["a@example.com"])
      expect((yield* h.provide(quarantineView())).count).toBe(0)
    }))

  it.effect("a sync that fails on its own storage stops that audience; the tick syncs the others and records the error", () =>
    Effect.gen(function*() {
      const broken = breakAudience("bad", "reads")
      broken.state.broken = false
      const h = yield* harness(undefined, broken.wrap)
      yield* h.send([event("bad", "u1", ["a@example.com"], true), event("good", "u2", ["b@example.com"], true)])
      yield* h.tick({ folderName: "Engage Audiences", budget: { callsPerWindow: 50, windowMillis: 20_000 }, deadline: 0 })
      broken.state.broken = true
      const summary = yield* h.tick()
      expect(summary.audiences.find((a) => a.audience === "bad")?.error).toMatchObject({ tag: "StateStoreFailure", code: "sync" })
      expect(yield* h.control.members("good")).toEqual(["b@example.com"])
      broken.state.broken = false
      yield* h.untilQuiet
      expect(yield* h.control.members("bad")).toEqual(["a@example.com"])
    }))

  it.effect("an audience record that does not decode is reported; every other audience syncs", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.send([event("bad", "u1", ["a@example.com"], true)])
      yield* h.untilQuiet
      yield* h.inner.set(StateKeys.audience("bad" as AudienceKey), "{\"key\":\"bad\"}")
      yield* h.send([event("good", "u2", ["b@example.com"], true)])
      const summary = yield* h.tick()
      expect(summary.audiences.find((a) => a.audience === "bad")?.error).toMatchObject({ code: "record" })
      expect(yield* h.control.members("good")).toEqual(["b@example.com"])
    }))
})
