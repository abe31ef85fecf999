// A tick reports what it asked of the state store; the counts match what the store saw, counted
// here independently at the store (deletes only of keys that held a value, as KV deletes them).
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import type { AudienceKey } from "../../../core/1-events/Ids.js"
import { StateKeys } from "../../../core/2-ledger/StateKeys.js"
import { tickRecordOf } from "../../../core/5-tick/TickOutcome.js"
import type { StateStoreService } from "../../../core/ports/StateStore.js"
import { event, harness } from "./TickHarness.js"

/** The store, noting every key it read a value of, wrote, deleted (that held a value) and every list. */
const observing = (seen: { reads: Array<string>; writes: Array<string>; deletes: Array<string>; lists: Array<string> }) =>
  (inner: StateStoreService): StateStoreService => ({
    get: (key) => Effect.tap(inner.get(key), (v) => void (Option.isSome(v) && seen.reads.push(key))),
    getMany: (keys) =>
      Effect.tap(inner.getMany(keys), (values) => {
        for (const key of keys) if (Option.isSome(values.get(key)!)) seen.reads.push(key)
      }),
    set: (key, value) => Effect.tap(inner.set(key, value), () => void seen.writes.push(key)),
    setMany: (entries) => Effect.tap(inner.setMany(entries), () => void seen.writes.push(...new Set(entries.map(([k]) => k)))),
    remove: (keys) =>
      Effect.gen(function*() {
        const held = yield* inner.getMany([...new Set(keys)])
        yield* inner.remove(keys)
        for (const [key, value] of held) if (Option.isSome(value)) seen.deletes.push(key)
      }),
    list: (prefix) => Effect.tap(inner.list(prefix), () => void seen.lists.push(prefix))
  })

describe("Tick: storage operations", () => {
  it.effect("a tick that folds N inbox entries and syncs one audience reports the reads, writes, deletes and lists the store saw", () =>
    Effect.gen(function*() {
      const seen = { reads: [] as Array<string>, writes: [] as Array<string>, deletes: [] as Array<string>, lists: [] as Array<string> }
      const h = yield* harness(undefined, observing(seen))
      const entries = 4
      for (let i = 0; i < entries; i++) {
        yield* h.send([event("vip", `u${i}`, [`member${i}@example.com`], true), event("vip", `w${i}`, [`other${i}@example.com`], true)])
      }
      const inboxBefore = yield* h.inner.list(StateKeys.inboxPrefix)
      expect(inboxBefore.length).toBe(entries)
      for (const list of Object.values(seen)) list.length = 0

      const summary = yield* h.tick()
      expect(summary.inboxFolded).toBe(entries)
      expect(summary.audiences.map((a) => [a.audience, a.added, a.error])).toEqual([["vip", 2 * entries, undefined]])
      expect(summary.storage).toEqual({ reads: seen.reads.length, writes: seen.writes.length, deletes: seen.deletes.length, lists: seen.lists.length })
      // The fold read every entry and deleted it once folded; the audience's record and shards were written.
      for (const key of inboxBefore) {
        expect(seen.reads).toContain(key)
        expect(seen.deletes).toContain(key)
      }
      expect(yield* h.inner.list(StateKeys.inboxPrefix)).toEqual([])
      expect(seen.writes).toContain(StateKeys.audience("vip" as AudienceKey))
      expect(summary.storage.reads).toBeGreaterThanOrEqual(entries)
      expect(summary.storage.deletes).toBeGreaterThanOrEqual(entries)

      // The record kept in the tick history carries the same counts.
      expect(tickRecordOf(summary, 0).storage).toEqual(summary.storage)

      // A tick with nothing to do reads little and writes nothing new to the ledger.
      for (const list of Object.values(seen)) list.length = 0
      const idle = yield* h.tick()
      expect(idle.inboxFolded).toBe(0)
      expect(idle.storage).toEqual({ reads: seen.reads.length, writes: seen.writes.length, deletes: seen.deletes.length, lists: seen.lists.length })
      expect(idle.storage.deletes).toBe(0)
    }))
})
