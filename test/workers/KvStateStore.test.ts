import { env } from "cloudflare:test"
import { Effect, Exit, Option } from "effect"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import * as KvStateStore from "../../adapters/cloudflare/KvStateStore.js"
import { makeStaleKv } from "../../adapters/cloudflare/testing/StaleKv.js"
import * as StaleKvStateStore from "../../adapters/cloudflare/testing/StaleKvStateStore.js"
import { StateNotVisible, StateStore } from "../../core/ports/StateStore.js"
import { makeStateStoreMemory } from "../../core/ports/StateStoreMemory.js"

const stubFor = (name: string) => env.MARKETO_INSTANCE.get(env.MARKETO_INSTANCE.idFromName(name))
const run = <A, E>(effect: Effect.Effect<A, E>) => Effect.runPromise(effect)

describe("KvStateStore", () => {
  it("sets, gets, lists and removes through versioned keys", async () => {
    const pointers = stubFor("kv-basic")
    const store = KvStateStore.make(env.STATE, pointers)
    expect(await run(store.get("audience/1"))).toEqual(Option.none())
    await run(store.set("audience/1", "one"))
    await run(store.setMany([["audience/2", "two"], ["ledger/1", "l"]]))
    expect(await run(store.get("audience/1"))).toEqual(Option.some("one"))
    expect(await run(store.getMany(["audience/2", "ledger/1", "none"]))).toEqual(
      new Map([["audience/2", Option.some("two")], ["ledger/1", Option.some("l")], ["none", Option.none()]])
    )
    expect(await run(store.list("audience/"))).toEqual(["audience/1", "audience/2"])

    // The value lives under the key its pointer names.
    const version = (await pointers.getPointers(["audience/1"]))[0]!.version
    expect(await env.STATE.get(KvStateStore.versionedKey("audience/1", version))).toBe("one")

    await run(store.remove(["audience/1", "none"]))
    expect(await run(store.get("audience/1"))).toEqual(Option.none())
    expect(await run(store.list("audience/"))).toEqual(["audience/2"])
    expect(await env.STATE.get(KvStateStore.versionedKey("audience/1", version))).toBeNull()
  })

  it("writes each version to a new key and deletes the one it replaced", async () => {
    const pointers = stubFor("kv-versions")
    const store = KvStateStore.make(env.STATE, pointers)
    await run(store.set("progress", "v1"))
    const first = (await pointers.getPointers(["progress"]))[0]!.version
    await run(store.set("progress", "v2"))
    const second = (await pointers.getPointers(["progress"]))[0]!.version
    expect(second).toBeGreaterThan(first)
    expect(await run(store.get("progress"))).toEqual(Option.some("v2"))
    expect(await env.STATE.get(KvStateStore.versionedKey("progress", second))).toBe("v2")
    expect(await env.STATE.get(KvStateStore.versionedKey("progress", first))).toBeNull()
    // Many writes to one key in the same second: no KV key is written twice.
    await run(Effect.forEach(Array.from({ length: 10 }, (_, i) => `v${i + 3}`), (v) => store.set("progress", v), { concurrency: 5 }))
    const last = (await pointers.getPointers(["progress"]))[0]!.version
    expect(await run(store.get("progress"))).toEqual(Option.some(await env.STATE.get(KvStateStore.versionedKey("progress", last))))
    const listed = await env.STATE.list({ prefix: "progress@" })
    expect(listed.keys.map((k) => k.name)).toEqual([KvStateStore.versionedKey("progress", last)])
  })

  it("keeps the last value of a key given twice in one batch", async () => {
    const store = KvStateStore.make(env.STATE, stubFor("kv-dupes"))
    await run(store.setMany([["k", "first"], ["k", "second"]]))
    expect(await run(store.get("k"))).toEqual(Option.some("second"))
  })

  it("works through the StateStore tag", async () => {
    const program = Effect.gen(function*() {
      const store = yield* StateStore
      yield* store.set("x", "1")
      return yield* store.get("x")
    })
    const out = await run(program.pipe(Effect.provide(KvStateStore.layer(env.STATE, stubFor("kv-layer")))))
    expect(out).toEqual(Option.some("1"))
  })
})

describe("KvStateStore with stale reads", () => {
  it("fails with StateNotVisible for a version KV does not show yet, never an older value", async () => {
    const pointers = stubFor("kv-stale")
    let now = 1_000_000
    const kv = makeStaleKv(env.STATE, 60_000, () => now)
    const store = KvStateStore.make(kv, pointers)

    await run(store.set("ledger/7", "old"))
    const hidden = await Effect.runPromiseExit(store.get("ledger/7"))
    expect(hidden).toEqual(Exit.fail(new StateNotVisible({ key: "ledger/7" })))

    now += 60_000
    expect(await run(store.get("ledger/7"))).toEqual(Option.some("old"))

    // A newer version is written: until it propagates, readers are told to wait, not given "old".
    await run(store.set("ledger/7", "new"))
    const exit = await Effect.runPromiseExit(store.getMany(["ledger/7"]))
    expect(exit).toEqual(Exit.fail(new StateNotVisible({ key: "ledger/7" })))
    expect(await run(store.list("ledger/"))).toEqual(["ledger/7"])

    kv.settle()
    expect(await run(store.get("ledger/7"))).toEqual(Option.some("new"))
  })

  it("serves the same through the test layer", async () => {
    const program = Effect.gen(function*() {
      const store = yield* StateStore
      yield* store.set("inbox/1", "batch")
      return yield* Effect.flip(store.get("inbox/1"))
    })
    const error = await run(program.pipe(Effect.provide(StaleKvStateStore.layer(env.STATE, stubFor("kv-stale-layer"), 60_000))))
    expect(error).toEqual(new StateNotVisible({ key: "inbox/1" }))
  })
})

describe("KvStateStore against the in-memory store", () => {
  type Op =
    | { readonly op: "set"; readonly entries: ReadonlyArray<readonly [string, string]> }
    | { readonly op: "remove"; readonly keys: ReadonlyArray<string> }
  const key = fc.constantFrom("a/1", "a/2", "a/10", "b/1", "b")
  const opArb: fc.Arbitrary<Op> = fc.oneof(
    { weight: 3, arbitrary: fc.array(fc.tuple(key, fc.string({ maxLength: 8 })), { minLength: 1, maxLength: 4 }).map((entries) => ({ op: "set" as const, entries })) },
    { weight: 1, arbitrary: fc.array(key, { maxLength: 3 }).map((keys) => ({ op: "remove" as const, keys })) }
  )
  let run = 0

  it("answers every get, getMany and list as the in-memory store does", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 12 }), async (ops) => {
        const store = KvStateStore.make(env.STATE, stubFor(`model-${run++}`))
        const model = await Effect.runPromise(makeStateStoreMemory())
        const keys = ["a/1", "a/2", "a/10", "b/1", "b"]
        for (const step of ops) {
          if (step.op === "set") {
            await Effect.runPromise(store.setMany(step.entries))
            await Effect.runPromise(model.setMany(step.entries))
          } else {
            await Effect.runPromise(store.remove(step.keys))
            await Effect.runPromise(model.remove(step.keys))
          }
          expect(await Effect.runPromise(store.getMany(keys))).toEqual(await Effect.runPromise(model.getMany(keys)))
          for (const prefix of ["", "a/", "b"]) {
            expect(await Effect.runPromise(store.list(prefix))).toEqual(await Effect.runPromise(model.list(prefix)))
          }
        }
      }),
      { numRuns: 25 }
    )
  })
})
