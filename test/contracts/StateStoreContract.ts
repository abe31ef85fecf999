// The StateStore contract (core/ports/StateStore.ts): values by key, batches that readers see
// whole or not at all, removal, listing by prefix in order, values of megabytes. Every case opens
// a fresh, empty store; `second` is another handle on the same data (another connection or
// another invocation where the runtime has them), so what one writes the other must read.
import { Effect, Exit, Fiber, Option, type Scope } from "effect"
import { StateNotVisible, type StateStoreService } from "../../core/ports/StateStore.js"
import { check, type ContractCase, equal } from "./Contract.js"

export interface StateStoreHarness {
  readonly open: Effect.Effect<{ readonly store: StateStoreService; readonly second: StateStoreService }, unknown, Scope.Scope>
  /**
   * Only for stores whose reads can lag a write (versioned Workers KV): finish propagation. A
   * store without it must show every write at once.
   */
  readonly settle?: Effect.Effect<void>
}

type Case = ContractCase<StateStoreHarness>

const some = Option.some
const none = Option.none<string>()

/** A value of about `bytes` UTF-8 bytes whose characters take 1 to 4 bytes, so chunk borders fall inside them. */
const mixed = (bytes: number, seed: string) => {
  const unit = `${seed}:aé€😀|` // 1+1+2+3+4+1 bytes after the seed
  return unit.repeat(Math.ceil(bytes / new TextEncoder().encode(unit).length))
}

const values: Case = {
  name: "get answers none for a missing key, then the value set, then the value that replaced it (the empty string too)",
  run: (h) =>
    Effect.gen(function*() {
      const { store } = yield* h.open
      equal(yield* store.get("aud/vip"), none, "a key never written")
      yield* store.set("aud/vip", "one")
      equal(yield* store.get("aud/vip"), some("one"), "after set")
      yield* store.set("aud/vip", "two")
      equal(yield* store.get("aud/vip"), some("two"), "after a second set")
      yield* store.set("empty", "")
      equal(yield* store.get("empty"), some(""), "the empty string is a value, not an absence")
      const odd = ["aud/caf%C3%A9/shard/0001", "ü/é", "with space", "a@b:c", "x".repeat(400)]
      yield* store.setMany(odd.map((k) => [k, `v-${k}`] as const))
      for (const k of odd) equal(yield* store.get(k), some(`v-${k}`), `key ${k.slice(0, 40)}`)
    })
}

const batches: Case = {
  name: "getMany answers every key asked, present or not; setMany writes every entry and keeps a repeated key's last value",
  run: (h) =>
    Effect.gen(function*() {
      const { store } = yield* h.open
      yield* store.setMany([["a", "1"], ["b", "2"], ["a", "3"], ["c", "4"]])
      equal(
        yield* store.getMany(["a", "b", "missing", "c", "b"]),
        new Map([["a", some("3")], ["b", some("2")], ["missing", none], ["c", some("4")]]),
        "getMany"
      )
      equal(yield* store.getMany([]), new Map(), "getMany of nothing")
      yield* store.setMany([])
      // More keys than one read of some stores holds (Deno KV reads 10 at a time).
      const many = Array.from({ length: 60 }, (_, i) => [`many/${String(i).padStart(3, "0")}`, `value ${i}`] as const)
      yield* store.setMany(many)
      equal(yield* store.getMany(many.map(([k]) => k)), new Map(many.map(([k, v]) => [k, some(v)])), "60 keys written together")
      equal((yield* store.list("many/")).length, 60, "60 keys listed")
    })
}

const atomicBatches: Case = {
  name: "a reader never sees part of a setMany, however many keys and however large their values",
  run: (h) =>
    Effect.gen(function*() {
      const { store, second } = yield* h.open
      // More keys than one read of some stores holds (Deno KV: 10).
      const keys = Array.from({ length: 14 }, (_, i) => `aud/a/shard/${String(i).padStart(4, "0")}`)
      // Every value of a round starts with the round; two are large enough to be chunked.
      const round = (n: number) => keys.map((k, i) => [k, `${n}:${i % 7 === 0 ? mixed(100_000, k) : k}`] as const)
      yield* store.setMany(round(0))
      let writing = true
      const reader = Effect.gen(function*() {
        const seen: Array<string> = []
        do {
          const read = yield* second.getMany(keys)
          const rounds = new Set([...read.values()].map((v) => Option.getOrElse(v, () => "none:").split(":")[0]))
          check(rounds.size === 1, "one getMany saw values of different setMany calls", [...rounds])
          seen.push([...rounds][0]!)
          yield* Effect.sleep("1 millis")
        } while (writing)
        return seen
      })
      const readers = yield* Effect.fork(Effect.all([reader, reader], { concurrency: 2 }))
      for (let n = 1; n <= 8; n++) yield* Effect.zipRight(store.setMany(round(n)), Effect.sleep("2 millis"))
      writing = false
      const seen = (yield* Fiber.join(readers)).flat()
      check(new Set(seen).size > 1, "the readers saw only one round", seen)
      equal(yield* second.getMany(keys), new Map(round(8).map(([k, v]) => [k, some(v)])), "the last round, whole")
    })
}

const listing: Case = {
  name: "list answers the keys that start with the prefix, sorted, and no other",
  run: (h) =>
    Effect.gen(function*() {
      const { store, second } = yield* h.open
      const keys = [
        "aud/b", "aud/a", "aud/a/shard/0010", "aud/a/shard/0002", "aud/a/journal/0000000001/000001", "aud0", "au",
        "aud/", "inbox/0001700000000000-x", "inbox/0001700000000001-a", "ü/é", "aud/é"
      ]
      yield* store.setMany(keys.map((k) => [k, k] as const))
      const sorted = (ks: ReadonlyArray<string>) => [...ks].sort()
      equal(
        yield* second.list("aud/"),
        ["aud/", "aud/a", "aud/a/journal/0000000001/000001", "aud/a/shard/0002", "aud/a/shard/0010", "aud/b", "aud/é"],
        "list aud/"
      )
      equal(yield* second.list("aud/a/shard/"), ["aud/a/shard/0002", "aud/a/shard/0010"], "list of one audience's shards")
      equal(yield* second.list("inbox/"), ["inbox/0001700000000000-x", "inbox/0001700000000001-a"], "list inbox/")
      equal(yield* second.list(""), sorted(keys), "list of everything")
      equal(yield* second.list("zzz"), [], "a prefix nothing starts with")
      equal(yield* second.list("aud/a/shard/0002"), ["aud/a/shard/0002"], "a whole key as the prefix")
      yield* store.remove(["aud/a/shard/0010", "aud/"])
      equal(yield* second.list("aud/"), ["aud/a", "aud/a/journal/0000000001/000001", "aud/a/shard/0002", "aud/b", "aud/é"], "after remove")
    })
}

const removal: Case = {
  name: "remove deletes the keys it names and ignores keys that do not exist; a removed key can be written again",
  run: (h) =>
    Effect.gen(function*() {
      const { store, second } = yield* h.open
      yield* store.setMany([["k1", "1"], ["k2", "2"], ["k3", "3"]])
      yield* store.remove(["k1", "k3", "never", "k1"])
      equal(yield* second.getMany(["k1", "k2", "k3"]), new Map([["k1", none], ["k2", some("2")], ["k3", none]]), "after remove")
      yield* store.remove([])
      yield* store.set("k1", "again")
      equal(yield* second.get("k1"), some("again"), "written again")
      // More keys than one atomic operation of some stores checks (Deno KV: 100).
      const many = Array.from({ length: 110 }, (_, i) => `gone/${i}`)
      for (let i = 0; i < many.length; i += 55) yield* store.setMany(many.slice(i, i + 55).map((k) => [k, k] as const))
      yield* store.remove(many)
      equal(yield* second.list("gone/"), [], "110 keys removed")
    })
}

const largeValues: Case = {
  name: "large values (2 MB, multi-byte characters across chunk borders) round-trip, are replaced and removed whole",
  run: (h) =>
    Effect.gen(function*() {
      const { store, second } = yield* h.open
      const big = "x".repeat(2 * 1024 * 1024)
      const multi = mixed(300_000, "m")
      yield* store.set("aud/big/shard/0000", big)
      yield* store.setMany([["aud/big/shard/0001", multi], ["aud/big", "record"]])
      const read = yield* second.getMany(["aud/big/shard/0000", "aud/big/shard/0001", "aud/big"])
      check(Option.getOrUndefined(read.get("aud/big/shard/0000")!) === big, "the 2 MB value read back differs")
      check(Option.getOrUndefined(read.get("aud/big/shard/0001")!) === multi, "the multi-byte value read back differs")
      equal(read.get("aud/big"), some("record"), "the small value beside them")
      // Replaced by a smaller value, then by a larger one: each read is exactly the last write.
      yield* store.set("aud/big/shard/0000", "small")
      equal(yield* second.get("aud/big/shard/0000"), some("small"), "after replacing 2 MB with a small value")
      const bigger = mixed(2_500_000, "b")
      yield* store.set("aud/big/shard/0000", bigger)
      check(Option.getOrUndefined(yield* second.get("aud/big/shard/0000")) === bigger, "the 2.5 MB value read back differs")
      equal(yield* second.list("aud/big"), ["aud/big", "aud/big/shard/0000", "aud/big/shard/0001"], "each key listed once")
      yield* store.remove(["aud/big/shard/0000", "aud/big/shard/0001"])
      equal(yield* second.getMany(["aud/big/shard/0000", "aud/big/shard/0001"]), new Map([["aud/big/shard/0000", none], ["aud/big/shard/0001", none]]), "removed")
    })
}

const racingWriters: Case = {
  name: "writers racing on one key: the value read after is one of theirs, whole",
  run: (h) =>
    Effect.gen(function*() {
      const { store, second } = yield* h.open
      const versions = Array.from({ length: 8 }, (_, i) => mixed(100_000 + i * 1_000, `w${i}`))
      yield* Effect.forEach(versions, (v, i) => (i % 2 === 0 ? store : second).set("aud/race/shard/0000", v), { concurrency: "unbounded" })
      const last = Option.getOrUndefined(yield* store.get("aud/race/shard/0000"))
      check(last !== undefined && versions.includes(last), "the value read after the race is none of the values written", last?.slice(0, 20))
      equal(yield* second.get("aud/race/shard/0000"), Option.fromNullable(last), "both handles read the same value")
    })
}

/** Writes are seen at once, or (a store with `settle`) as StateNotVisible until they propagate: never as an older value. */
export const visibility: Case = {
  name: "a reader sees the latest write, or StateNotVisible where the store may lag, never an older value",
  run: (h) =>
    Effect.gen(function*() {
      const { store, second } = yield* h.open
      yield* store.set("aud/v", "old")
      if (h.settle !== undefined) yield* h.settle
      equal(yield* second.get("aud/v"), some("old"), "the first value")
      yield* store.set("aud/v", "new")
      const read = yield* Effect.exit(second.get("aud/v"))
      if (Exit.isSuccess(read)) equal(read.value, some("new"), "read right after the second write")
      else {
        const error = read.cause._tag === "Fail" ? read.cause.error : undefined
        check(h.settle !== undefined && error instanceof StateNotVisible, "a read right after a write failed", String(read.cause))
        yield* h.settle!
        equal(yield* second.get("aud/v"), some("new"), "once the write propagated")
      }
    })
}

export const stateStoreContract: ReadonlyArray<Case> = [values, batches, atomicBatches, listing, removal, largeValues, racingWriters, visibility]
