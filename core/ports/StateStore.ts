// Where the sync keeps its state: inbox batches, ledger shards, audience records, progress.
// Values are strings (JSON made by the core's schemas). The Cloudflare implementation writes each
// value under a new versioned KV key and moves the key's pointer in the instance's Durable Object,
// so a reader either sees the current version or fails with StateNotVisible and tries again later:
// it never acts on an older value. Implementations: StateStoreMemory.ts beside this file (tests, Node),
// adapters/cloudflare/KvStateStore.ts; the port knows none of them.
import { Context, Data, type Effect, type Option } from "effect"

/**
 * Keys are at most this many bytes once an implementation has added its own suffix (Workers KV's
 * key limit). The core keeps every key it makes within `maxKeyBytes - keySuffixBytes`.
 */
export const maxKeyBytes = 512
/** The most an implementation may add to a key (KvStateStore adds `@` and a version number). */
export const keySuffixBytes = 24

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

export class StateStore extends Context.Tag("marketo-lists/StateStore")<StateStore, StateStoreService>() {}
