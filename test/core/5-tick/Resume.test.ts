// Ticks stopped anywhere (killed at a call, before a write, at the deadline) resume with nothing lost or done twice.
import { describe, expect, it } from "@effect/vitest"
import { Clock, Effect, Exit, Fiber, Option, TestClock } from "effect"
import { dryRun, getAudience } from "../../../core/5-tick/AudienceStatus.js"
import type { AudienceKey } from "../../../core/1-events/Ids.js"
import { MarketoTransient } from "../../../core/marketo/MarketoErrors.js"
import { StateStoreFailure, type StateStoreService } from "../../../core/ports/StateStore.js"
import { StateKeys } from "../../../core/2-ledger/StateKeys.js"
import { type Api, event, harness, namingCalls, settings } from "./TickHarness.js"

/** Imports run in 30 s whether they are polled or not, as Marketo's do. */
const timed = { importMillis: 30_000 }

describe("Sync: stopped ticks resume", () => {
  const crashScript = (h: Effect.Effect.Success<ReturnType<typeof harness>>) =>
    Effect.gen(function*() {
      yield* h.send([
        event("vip", "u1", ["a@example.com", "b@example.com"], true),
        event("vip", "u2", ["c@example.com"], true),
        ...Array.from({ length: 320 }, (_, i) => event("vip", `n${i}`, [`n${i}@example.com`], true))
      ])
      yield* h.untilQuiet
      yield* h.send([
        event("vip", "u1", ["a@example.com", "b@example.com"], false),
        event("vip", "u3", ["d@example.com"], true),
        ...Array.from({ length: 310 }, (_, i) => event("vip", `n${i}`, [`n${i}@example.com`], false))
      ])
      yield* h.untilQuiet
      return yield* h.control.members("vip")
    })
  const crashExpected = ["c@example.com", "d@example.com", ...Array.from({ length: 10 }, (_, i) => `n${310 + i}@example.com`)].sort()

  it.effect("resumes after a tick is killed at any Marketo call, with nothing lost or duplicated", () =>
    Effect.gen(function*() {
      const names: Array<string> = []
      const baseline = yield* harness(timed, undefined, namingCalls(names))
      expect(yield* crashScript(baseline)).toEqual(crashExpected)
      const total = (yield* baseline.control.state).calls
      const leads = (yield* baseline.control.state).leads.size
      expect(total).toBeGreaterThan(8)
      expect(names).toContain("importCsv")
      for (let k = 1; k <= total; k++) {
        const crashed = yield* harness(timed)
        yield* crashed.control.crashAtCall(k)
        expect(yield* crashScript(crashed)).toEqual(crashExpected)
        // The journal keeps what the steps before the crash did: only the interrupted call is made
        // again, or, for a kill among the tick's shared lead calls (one upsert and two lookups here,
        // journaled once all have answered), those made before it too. An import is journaled as
        // sent before it is: killed there, it is looked for (a lookup and a membership check, three
        // times over eleven minutes here) before its rows are sent again.
        expect((yield* crashed.control.state).calls).toBeLessThanOrEqual(total + 3 + (names[k - 1] === "importCsv" ? 6 : 0))
        expect((yield* crashed.control.state).leads.size).toBe(leads)
        const failed = yield* harness(timed)
        yield* failed.control.failCall(k, new MarketoTransient({ code: "604", message: "timeout" }))
        expect(yield* crashScript(failed)).toEqual(crashExpected)
      }
    }), { timeout: 60_000 })

  it.effect("resumes after a tick is killed before any of its state writes", () =>
    Effect.gen(function*() {
      // Count the writes a tick makes (not the ingest's inbox appends), and kill the tick at the k-th.
      const writes = { n: 0, crashAt: 0 }
      const isIngestWrite = (key: string) => key.startsWith(StateKeys.inboxPrefix) || key.startsWith(StateKeys.inboxSummaryPrefix)
      const counting = (s: StateStoreService): StateStoreService => {
        const gate = <A, E>(effect: Effect.Effect<A, E>) =>
          Effect.suspend(() => (++writes.n === writes.crashAt ? Effect.interrupt : effect))
        return {
          ...s,
          set: (key, value) => (key.startsWith(StateKeys.inboxPrefix) ? s.set(key, value) : gate(s.set(key, value))),
          // The ingest writes an inbox entry and its summary together.
          setMany: (entries) => (entries.every(([key]) => isIngestWrite(key)) ? s.setMany(entries) : gate(s.setMany(entries))),
          remove: (keys) => gate(s.remove(keys))
        }
      }
      const baseline = yield* harness(timed, counting)
      expect(yield* crashScript(baseline)).toEqual(crashExpected)
      const total = writes.n
      const calls = (yield* baseline.control.state).calls
      expect(total).toBeGreaterThan(10)
      for (let k = 1; k <= total; k++) {
        writes.n = 0
        writes.crashAt = k
        const crashed = yield* harness(timed, counting)
        expect(yield* crashScript(crashed)).toEqual(crashExpected)
        // A step done in Marketo but not yet journaled is done again: at most two calls more (a list
        // created again answers 709 and is looked up), or the tick's three shared lead calls when
        // the write of their answers is the one killed. An import is never sent again blindly: a
        // kill between its being journaled as sent and its batch id being journaled leaves it to be
        // looked for (a lookup and a membership check, the import found on the list: no re-send).
        expect((yield* crashed.control.state).calls).toBeLessThanOrEqual(calls + 3)
        expect(yield* crashed.inner.list(StateKeys.inboxPrefix)).toEqual([])
        expect((yield* crashed.inner.list("aud/vip/journal/"))).toEqual([])
      }
    }), { timeout: 60_000 })

  it.effect("keeps inbox entries when their fold cannot be written", () =>
    Effect.gen(function*() {
      let failWrites = false
      const h = yield* harness(undefined, (s) => ({
        ...s,
        setMany: (entries) => (failWrites ? Effect.fail(new StateStoreFailure({ key: "x", message: "down" })) : s.setMany(entries))
      }))
      yield* h.send([event("vip", "u1", ["a@example.com"], true)])
      failWrites = true
      // The fold fails for this audience alone: the tick goes on, and the entry waits in the inbox.
      expect((yield* h.tick()).foldFailures).toMatchObject([{ audience: "vip", tag: "StateStoreFailure", quarantined: false }])
      expect(yield* h.inner.list(StateKeys.inboxPrefix)).toHaveLength(1)
      failWrites = false
      yield* h.untilQuiet
      expect(yield* h.inner.list(StateKeys.inboxPrefix)).toHaveLength(0)
      expect(yield* h.control.members("vip")).toEqual(["a@example.com"])
    }))

  it.effect("starts no step after the deadline", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.send([event("vip", "u1", ["a@example.com"], true)])
      const summary = yield* h.tick({ ...settings, deadline: 0 })
      expect(summary.inboxFolded).toBe(1)
      expect(summary.stoppedBy).toBe("deadline")
      expect((yield* h.control.state).calls).toBe(0)
    }))

  it.effect("stops at the deadline between steps (TestClock), and the next tick finishes the plan", () =>
    Effect.gen(function*() {
      // Every Marketo call takes a second of (test) time.
      const slow = (api: Api): Api =>
        Object.fromEntries(
          Object.entries(api).map(([name, f]) => [name, (...args: Array<unknown>) => Effect.zipRight(Effect.sleep("1 second"), (f as (...a: Array<unknown>) => Effect.Effect<unknown>)(...args))])
        ) as unknown as Api
      const h = yield* harness(undefined, undefined, slow)
      yield* h.send([event("vip", "u1", ["a@example.com"], true), event("vip", "u2", ["b@example.com"], true)])
      const start = yield* Clock.currentTimeMillis
      // Folder, list and upsert start at 0 s, 1 s and 2 s; the add would start at 3 s, past the deadline.
      const fiber = yield* Effect.fork(h.tick({ ...settings, deadline: start + 2_500 }))
      yield* TestClock.adjust("10 seconds")
      const first = yield* Fiber.join(fiber)
      expect(first.stoppedBy).toBe("deadline")
      expect(first.audiences[0]).toMatchObject({ stepsDone: 3, calls: 3, remaining: { add: 2, remove: 0 } })
      expect(yield* h.control.members("vip")).toEqual([])
      const vip = Option.getOrThrow(yield* h.provide(getAudience("vip" as AudienceKey)))
      expect(vip.progress).toEqual({ stepsDone: 3, stepsTotal: 4 })
      expect(vip.lastSync?.outcome).toBe("partial")
      // The lead ids learned before the deadline were kept: the rest of the plan is one add.
      const next = yield* Effect.fork(h.tick())
      yield* TestClock.adjust("10 seconds")
      const second = yield* Fiber.join(next)
      expect(second.audiences[0]).toMatchObject({ stepsDone: 1, calls: 1, added: 2, remaining: { add: 0, remove: 0 } })
      expect(yield* h.control.members("vip")).toEqual(["a@example.com", "b@example.com"])
      expect(Option.getOrThrow(yield* h.provide(getAudience("vip" as AudienceKey))).progress).toBeUndefined()
    }))

  it.effect("a plan stopped before it changed anything writes back only the record, not the shards it read", () =>
    Effect.gen(function*() {
      const written: Array<ReadonlyArray<string>> = []
      const h = yield* harness(undefined, (s) => ({
        ...s,
        set: (key, value) => Effect.zipRight(Effect.sync(() => written.push([key])), s.set(key, value)),
        setMany: (entries) => Effect.zipRight(Effect.sync(() => written.push(entries.map(([k]) => k))), s.setMany(entries))
      }), (api) => ({ ...api, findFolders: (name) => Effect.zipRight(Effect.sleep("1 second"), api.findFolders(name)) }))
      yield* h.send(Array.from({ length: 50 }, (_, i) => event("vip", `u${i}`, [`u${i}@example.com`], true)))
      const start = yield* Clock.currentTimeMillis
      const fiber = yield* Effect.fork(h.tick({ ...settings, deadline: start + 500 }))
      yield* TestClock.adjust("2 seconds")
      const summary = yield* Fiber.join(fiber)
      expect(summary.audiences[0]).toMatchObject({ stepsDone: 1, remaining: { add: 50 } })
      const record = StateKeys.audience("vip" as AudienceKey)
      const inbox = written.findIndex((keys) => keys.some((k) => k.startsWith(StateKeys.inboxPrefix)))
      const writes = written.slice(inbox + 1)
      // The fold wrote the shards the 50 emails fall in, at most two per write, then the record...
      const foldEnd = writes.findIndex((keys) => keys.includes(record))
      expect(writes.slice(0, foldEnd).flat().filter((k) => k.includes("/shard/")).length).toBeGreaterThan(10)
      for (const keys of writes.slice(0, foldEnd)) expect(keys.length).toBeLessThanOrEqual(2)
      // ...and the stopped plan only the folder id its one step learned, and the record.
      expect(writes.slice(foldEnd + 1)).toEqual([[StateKeys.folder], [record]])
    }))
  it.effect("journal entries older than the shards' epoch are deleted, never replayed", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      const vip = "vip" as AudienceKey
      yield* h.send([event("vip", "u1", ["a@example.com"], true)])
      yield* h.untilQuiet
      yield* h.send([event("vip", "u1", ["a@example.com"], false)])
      yield* h.untilQuiet
      expect(yield* h.control.members("vip")).toEqual([])
      // Left by a tick that wrote its shards and stopped before deleting its journal: "a is on the list".
      const epoch = JSON.parse(Option.getOrThrow(yield* h.inner.get(StateKeys.audience(vip)))).journalEpoch as number
      expect(epoch).toBeGreaterThan(0)
      const stale = StateKeys.journal(vip, epoch - 1, 0)
      yield* h.inner.set(stale, JSON.stringify([{ _tag: "MembershipConfirmed", emails: ["a@example.com"], synced: true }]))
      yield* h.send([event("vip", "u1", ["a@example.com"], true)])
      yield* h.untilQuiet
      expect(yield* h.control.members("vip")).toEqual(["a@example.com"])
      expect(yield* h.inner.get(stale)).toEqual(Option.none())
    }))

  it.effect("a dry run after a killed tick shows only what is left to do", () =>
    Effect.gen(function*() {
      const h = yield* harness()
      yield* h.send(Array.from({ length: 10 }, (_, i) => event("vip", `u${i}`, [`u${i}@example.com`], true)))
      yield* h.control.crashAtCall(4) // folder, list and upsert are done and journaled; the add is killed
      expect(Exit.isInterrupted(yield* Effect.exit(h.tick()))).toBe(true)
      const left = Option.getOrThrow(yield* h.provide(dryRun("vip" as AudienceKey, settings)))
      expect(left.plan.steps.map((s) => s._tag)).toEqual(["AddToList"])
      expect(left.calls).toBe(1)
      const summary = yield* h.tick()
      expect(summary.audiences[0]).toMatchObject({ stepsDone: 1, calls: 1, added: 10 })
    }))
})
