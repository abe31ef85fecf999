// The audience registry and tick records on Deno KV (adapters/deno/DenoKvAudienceRegistry.ts,
// DenoKvTickRecords.ts): the Durable Object table's decisions, and MAX_AUDIENCES exact when two
// connections (two processes of a deployment) admit new keys at once.
import { Effect, type Scope } from "effect"
import * as DenoKvAudienceRegistry from "../../adapters/deno/DenoKvAudienceRegistry.ts"
import * as DenoKvTickRecords from "../../adapters/deno/DenoKvTickRecords.ts"
import { freshPair } from "./DenoKvHarness.ts"

const options = { sanitizeOps: false, sanitizeResources: false }
const scoped = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>) => Effect.runPromise(Effect.scoped(effect))
const same = (actual: unknown, expected: unknown, what: string) => {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) throw new Error(`${what}: ${JSON.stringify(actual)} ≠ ${JSON.stringify(expected)}`)
}

Deno.test({ name: "admits up to the limit, ignores events older than a removal, counts them", ...options, fn: () =>
  scoped(Effect.gen(function*() {
    const [a] = yield* freshPair
    const registry = DenoKvAudienceRegistry.make(a)
    const first = yield* registry.admitAudiences([{ key: "x", times: [10] }, { key: "y", times: [10] }, { key: "z", times: [10] }], 2)
    same(first.map((d) => d.admitted), [true, true, false], "the third key is over the limit")
    same(yield* registry.buryAudience("x", 100, false), true, "bury")
    const after = yield* registry.admitAudiences([{ key: "x", times: [50, 150] }, { key: "z", times: [10] }], 2)
    same(after, [{ key: "x", removedAt: 100, ignored: 1, admitted: true }, { key: "z", removedAt: null, ignored: 0, admitted: false }], "after the removal")
    yield* registry.countIgnored([{ key: "x", ignored: 2 }])
    same(yield* registry.tombstones, [{ key: "x", removedAt: 100, ignored: 3, live: true }], "the tombstone")
    same(yield* registry.buryAudience("never", 5, true), false, "only a live key is buried with onlyIfLive")
  }))
})

Deno.test({ name: "two connections racing for the last slots admit exactly the limit", ...options, fn: () =>
  scoped(Effect.gen(function*() {
    const [a, b] = yield* freshPair
    const [ra, rb] = [DenoKvAudienceRegistry.make(a), DenoKvAudienceRegistry.make(b)]
    const keys = Array.from({ length: 40 }, (_, i) => `k${i}`)
    const answers = yield* Effect.all(keys.map((key, i) => (i % 2 === 0 ? ra : rb).admitAudiences([{ key, times: [1] }], 25)), { concurrency: "unbounded" })
    same(answers.flat().filter((d) => d.admitted).length, 25, "admitted")
  }))
})

Deno.test({ name: "tick records come back oldest first", ...options, fn: () =>
  scoped(Effect.gen(function*() {
    const [a] = yield* freshPair
    const ticks = DenoKvTickRecords.make(a)
    const now = Date.now()
    for (const at of [now - 2_000, now - 1_000, now]) yield* ticks.recordTick({ at, outcome: "ok", calls: 1, changesFolded: 0, audiences: 0, failedAudiences: 0 })
    same((yield* ticks.tickHistory).map((t) => t.at), [now - 2_000, now - 1_000, now], "history")
  }))
})
