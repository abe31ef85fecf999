// The state store with a counter: what each port method costs, in Workers KV's terms, against the
// in-memory store.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { countingStore, storageCounter, storageCounts } from "../../../core/5-tick/CountingStore.js"
import { makeStateStoreMemory } from "../../../core/ports/StateStoreMemory.js"
import { StateStoreFailure, type StateStoreService } from "../../../core/ports/StateStore.js"

describe("CountingStore", () => {
  it.effect("counts one read per value read, one write per key set, one delete per key removed, one list per list", () =>
    Effect.gen(function*() {
      const memory = yield* makeStateStoreMemory(new Map([["a", "1"], ["b", "2"]]))
      const counter = storageCounter()
      const store = countingStore(memory, counter)

      expect(yield* store.get("a")).toEqual(Option.some("1"))
      expect(yield* store.get("missing")).toEqual(Option.none())
      expect(storageCounts(counter)).toEqual({ reads: 1, writes: 0, deletes: 0, lists: 0 })

      // A key without a value costs no read; a key asked twice is read twice.
      const many = yield* store.getMany(["a", "b", "missing", "a"])
      expect([...many.values()].filter(Option.isSome).length).toBe(2)
      expect(counter.reads).toBe(1 + 3)

      yield* store.set("c", "3")
      // A key given twice is written once (its last value).
      yield* store.setMany([["d", "4"], ["e", "5"], ["d", "6"]])
      expect(counter.writes).toBe(1 + 2)
      expect(yield* memory.get("d")).toEqual(Option.some("6"))

      expect(yield* store.list("")).toEqual(["a", "b", "c", "d", "e"])
      expect(yield* store.list("z")).toEqual([])
      expect(counter.lists).toBe(2)

      yield* store.remove(["a", "b", "a"])
      expect(counter.deletes).toBe(2)
      expect(yield* memory.list("")).toEqual(["c", "d", "e"])

      // Counting goes through the port: the store itself holds what it was asked to hold.
      expect(yield* memory.getMany(["c", "d", "e"])).toEqual(new Map([["c", Option.some("3")], ["d", Option.some("6")], ["e", Option.some("5")]]))
      expect(storageCounts(counter)).toEqual({ reads: 4, writes: 3, deletes: 2, lists: 2 })
    }))

  it.effect("an empty batch costs nothing, and a failed operation is not counted", () =>
    Effect.gen(function*() {
      const memory = yield* makeStateStoreMemory()
      const counter = storageCounter()
      const store = countingStore(memory, counter)
      yield* store.getMany([])
      yield* store.setMany([])
      yield* store.remove([])
      expect(storageCounts(counter)).toEqual({ reads: 0, writes: 0, deletes: 0, lists: 0 })

      const refusing: StateStoreService = {
        ...memory,
        set: (key) => Effect.fail(new StateStoreFailure({ key, message: "refused" })),
        list: (prefix) => Effect.fail(new StateStoreFailure({ key: prefix, message: "refused" }))
      }
      const failing = countingStore(refusing, counter)
      expect((yield* Effect.either(failing.set("k", "v")))._tag).toBe("Left")
      expect((yield* Effect.either(failing.list("")))._tag).toBe("Left")
      expect(storageCounts(counter)).toEqual({ reads: 0, writes: 0, deletes: 0, lists: 0 })
    }))

  it.effect("the counts taken are a record that later operations do not change", () =>
    Effect.gen(function*() {
      const counter = storageCounter()
      const store = countingStore(yield* makeStateStoreMemory(), counter)
      yield* store.set("a", "1")
      const taken = storageCounts(counter)
      yield* store.set("b", "2")
      expect(taken.writes).toBe(1)
      expect(counter.writes).toBe(2)
    }))
})
