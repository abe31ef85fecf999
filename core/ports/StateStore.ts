// Where the sync keeps its state: inbox batches, ledger shards, audience records, progress.
// Values are strings (JSON made by the core's schemas). The Cloudflare implementation writes each
// value under a new versioned KV key and moves the key's pointer in the instance's Durable Object,
// so a reader either sees the current version or fails with StateNotVisible and tries again later:
// it never acts on an older value. `layerMemory` is the in-memory implementation for tests and Node.
import { Context, Data, Effect, Layer, Option } from "effect"

/** The pointer names a version this reader cannot see yet (KV propagation): retry on a later tick. */
export class StateNotVisible extends Data.TaggedError("StateNotVisible")<{
  readonly key: string
}> {}

/** The store itself failed (binding missing, limits, network). */
export class StateStoreFailure extends Data.TaggedError("StateStoreFailure")<{
  readonly key: string
  readonly message: string
}> {}

export type StateStoreError = StateNotVisible | StateStoreFailure

export interface StateStoreService {
  readonly get: (key: string) => Effect.Effect<Option.Option<string>, StateStoreError>
  /** Several keys at once; the answer has an entry for each key asked. */
  readonly getMany: (keys: ReadonlyArray<string>) => Effect.Effect<ReadonlyMap<string, Option.Option<string>>, StateStoreError>
  readonly set: (key: string, value: string) => Effect.Effect<void, StateStoreError>
  /** Several keys at once; all or nothing as far as readers are concerned. */
  readonly setMany: (entries: ReadonlyArray<readonly [key: string, value: string]>) => Effect.Effect<void, StateStoreError>
  readonly remove: (keys: ReadonlyArray<string>) => Effect.Effect<void, StateStoreError>
  /** The keys that exist under a prefix, sorted (strongly consistent: read from the pointers). */
  readonly list: (prefix: string) => Effect.Effect<ReadonlyArray<string>, StateStoreError>
}

export class StateStore extends Context.Tag("marketo-lists/StateStore")<StateStore, StateStoreService>() {
  /**
   * An in-memory store over a plain Map, for tests and local runs. Each operation runs whole in one
   * synchronous step, so a `setMany` is all or nothing to any reader; the Map is changed in place
   * (copying it per write made a day of simulated ticks spend most of its time copying).
   */
  static readonly makeMemory = (initial?: ReadonlyMap<string, string>): Effect.Effect<StateStoreService> =>
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

  static readonly layerMemory: Layer.Layer<StateStore> = Layer.effect(StateStore, StateStore.makeMemory())
}
