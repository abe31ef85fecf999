// The StateStore port with a counter: a tick reports what it asked of storage, counted as Workers
// KV bills it through adapters/cloudflare/KvStateStore.ts:
//   - reads: one per value read (a key without a value has no pointer, so KV is not asked for it);
//   - writes: one per distinct key of a set or setMany (each goes to KV under a new version);
//   - deletes: one per distinct key removed;
//   - lists: one per list, whatever its length (the pointers answer it in one request).
// Only operations that succeed are counted: a failed one's cost is not known here. The Cloudflare
// store also deletes the version a write supersedes; that delete is not counted (the core cannot
// tell whether a key it writes already holds a value without reading it).
import { Effect, Option } from "effect"
import type { StateStoreService } from "../ports/StateStore.js"

export interface StorageCounts {
  readonly reads: number
  readonly writes: number
  readonly deletes: number
  readonly lists: number
}

export interface StorageCounter {
  reads: number
  writes: number
  deletes: number
  lists: number
}

export const storageCounter = (): StorageCounter => ({ reads: 0, writes: 0, deletes: 0, lists: 0 })

/** The counts so far, as a record that no longer changes. */
export const storageCounts = (counter: StorageCounter): StorageCounts => ({
  reads: counter.reads,
  writes: counter.writes,
  deletes: counter.deletes,
  lists: counter.lists
})

const distinct = (keys: Iterable<string>): number => new Set(keys).size

/** The port, counting what is asked of it. */
export const countingStore = (store: StateStoreService, counter: StorageCounter): StateStoreService => ({
  get: (key) => Effect.tap(store.get(key), (value) => void (counter.reads += Option.isSome(value) ? 1 : 0)),
  getMany: (keys) =>
    Effect.tap(store.getMany(keys), (values) => {
      // A key asked twice is read twice (the Cloudflare store fetches each key it is given).
      for (const key of keys) if (Option.isSome(values.get(key) ?? Option.none())) counter.reads++
    }),
  set: (key, value) => Effect.tap(store.set(key, value), () => void counter.writes++),
  setMany: (entries) => Effect.tap(store.setMany(entries), () => void (counter.writes += distinct(entries.map(([key]) => key)))),
  remove: (keys) => Effect.tap(store.remove(keys), () => void (counter.deletes += distinct(keys))),
  list: (prefix) => Effect.tap(store.list(prefix), () => void counter.lists++)
})
