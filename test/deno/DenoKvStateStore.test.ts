// What the contract cannot see of the Deno KV state store: values in 64 KiB chunks under a head,
// no chunk left behind by a replaced or removed value, batches bounded by one atomic commit, and
// the layers over one database.
import { Effect, Layer, Option, type Scope } from "effect"
import * as DenoKv from "../../adapters/deno/DenoKv.ts"
import * as DenoKvRateLimiter from "../../adapters/deno/DenoKvRateLimiter.ts"
import * as DenoKvStateStore from "../../adapters/deno/DenoKvStateStore.ts"
import * as DenoKvSyncLease from "../../adapters/deno/DenoKvSyncLease.ts"
import * as DenoKvTokenStore from "../../adapters/deno/DenoKvTokenStore.ts"
import { KvLimits } from "../../adapters/deno/KvLimits.ts"
import { TokenStore } from "../../adapters/marketo/AccessToken.ts"
import { RateLimiter } from "../../core/ports/RateLimiter.ts"
import { StateStore, StateStoreFailure } from "../../core/ports/StateStore.ts"
import { SyncLease } from "../../core/ports/SyncLease.ts"
import { check, equal, failureOf } from "../contracts/Contract.ts"
import { freshPair } from "./DenoKvHarness.ts"

const entriesUnder = (kv: Deno.Kv, prefix: Deno.KvKey) =>
  Effect.promise(async () => {
    const out: Array<Deno.KvEntry<unknown>> = []
    for await (const e of kv.list({ prefix })) out.push(e)
    return out
  })

const test = (name: string, body: Effect.Effect<void, unknown, Scope.Scope>) =>
  Deno.test({ name, sanitizeOps: false, sanitizeResources: false, fn: () => Effect.runPromise(Effect.scoped(body)) })

test("a value is kept in 64 KiB chunks named by its head; a replaced or removed value leaves no chunk behind", Effect.gen(function*() {
  const [db] = yield* freshPair
  const store = DenoKvStateStore.make(db)
  const chunks = [...db.prefix, "state", "chunk"]
  const value = "é".repeat(100_000) // 200,000 UTF-8 bytes
  yield* store.set("aud/x/shard/0001", value)
  const stored = yield* entriesUnder(db.kv, chunks)
  equal(stored.map((e) => (e.value as Uint8Array).length), [KvLimits.valueBytes, KvLimits.valueBytes, KvLimits.valueBytes, 200_000 - 3 * KvLimits.valueBytes], "chunk sizes")
  const head = yield* Effect.promise(() => db.kv.get<{ id: string; chunks: number; bytes: number }>([...db.prefix, "state", "head", "aud/x/shard/0001"]))
  check(head.value?.chunks === 4 && head.value.bytes === 200_000 && stored.every((e) => e.key[4] === head.value!.id), "the head names the chunks", head.value)
  // A batch too large for one operation (1.2 MB): chunks first, then the heads at once.
  yield* store.setMany([["a", "1".repeat(400_000)], ["b", "2".repeat(400_000)], ["aud/x/shard/0001", "3".repeat(400_000)]])
  equal((yield* entriesUnder(db.kv, chunks)).length, 3 * 7, "chunks of the three values, none of the replaced one")
  yield* store.set("aud/x/shard/0001", "small")
  yield* store.remove(["a", "b"])
  equal((yield* entriesUnder(db.kv, chunks)).map((e) => e.key[3]), ["aud/x/shard/0001"], "chunks left after replacing and removing")
  equal(yield* store.get("aud/x/shard/0001"), Option.some("small"), "the value")
}))

test("a batch of more keys than one atomic commit checks is refused whole", Effect.gen(function*() {
  const [db] = yield* freshPair
  const store = DenoKvStateStore.make(db)
  const batch = Array.from({ length: KvLimits.checks + 1 }, (_, i) => [`k/${i}`, "v"] as const)
  const error = yield* failureOf(store.setMany(batch), "a batch over the limit")
  check(error instanceof StateStoreFailure, "refused with StateStoreFailure", error)
  equal(yield* store.list(""), [], "nothing written")
  yield* store.setMany(batch.slice(0, KvLimits.checks))
  equal((yield* store.list("k/")).length, KvLimits.checks, "a batch at the limit")
}))

test("the layers serve the four ports from one database, closed with the layer's scope", Effect.gen(function*() {
  const directory = Deno.env.get("DENO_KV_DIR") ?? (yield* Effect.promise(() => Deno.makeTempDir()))
  const layers = Layer.mergeAll(DenoKvStateStore.layer, DenoKvRateLimiter.layer(), DenoKvSyncLease.layer, DenoKvTokenStore.layer).pipe(
    Layer.provideMerge(DenoKv.layer(`${directory}/layers.sqlite3`, "https://123-abc-456.mktorest.com"))
  )
  const program = Effect.gen(function*() {
    const store = yield* StateStore
    const limiter = yield* RateLimiter
    const lease = yield* SyncLease
    const tokens = yield* TokenStore
    yield* lease.withLease("tick", 60_000, Effect.gen(function*() {
      yield* limiter.withPermit(store.set("aud/vip", "record"))
      yield* tokens.set({ token: "t", expiresAt: 1 })
    }))
    return { kv: (yield* DenoKv.DenoKv).kv, value: yield* store.get("aud/vip"), used: (yield* limiter.status).usedToday, token: yield* tokens.get }
  })
  const out = yield* Effect.provide(program, layers)
  equal([out.value, out.used, out.token], [Option.some("record"), 1, Option.some({ token: "t", expiresAt: 1 })], "what the program saw")
  const closed = yield* Effect.either(Effect.tryPromise(() => out.kv.get(["x"])))
  check(closed._tag === "Left", "the database is closed after the layer")
}))
