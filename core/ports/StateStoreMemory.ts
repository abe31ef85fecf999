// The StateStore port in memory, over a plain Map: for tests, benchmarks and local runs in Node.
import { Effect, Layer, Option } from "effect"
import { StateStore, type StateStoreService } from "./StateStore.js"

/**
 * Each operation runs whole in one synchronous step, so a `setMany` is all or nothing to any
 * reader; the Map is changed in place (copying it per write made a day of simulated ticks spend
 * most of its time copying).
 */
export const makeStateStoreMemory = (initial?: ReadonlyMap<string, string>): Effect.Effect<StateStoreService> =>
  Effect.sync((): StateStoreService => {
    const m = new Map(initial ?? [])
    return {
      get: (key) => Effect.sync(() => Option.fromNullable(m.get(key))),
      getMany: (keys) => Effect.sync(() => new Map(keys.map((k) => [k, Option.fromNullable(m.get(k))]))),
      set: (key, value) => Effect.sync(() => void m.set(key, value)),
      setMany: (entries) =>
        Effect.sync(() => {
          for (const [k, v] of entries) m.set(k, v)
        }),
      remove: (keys) =>
        Effect.sync(() => {
          for (const k of keys) m.delete(k)
        }),
      list: (prefix) => Effect.sync(() => [...m.keys()].filter((k) => k.startsWith(prefix)).sort())
    }
  })

export const layerStateStoreMemory: Layer.Layer<StateStore> = Layer.effect(StateStore, makeStateStoreMemory())
