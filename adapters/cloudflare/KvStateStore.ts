// StateStore over Workers KV for the values and the instance's Durable Object for the pointers.
//
// KV is eventually consistent and allows about one write per second per key, so a value is never
// overwritten: each write goes to a fresh key `${key}@${version}` (the version comes from the
// object, never handed out twice), and only then does the object's pointer move to it. A reader
// asks the object for the pointer (strongly consistent) and KV for that exact version. If KV does
// not show it yet, the reader fails with StateNotVisible and tries again later: it can never get
// an older version, because older versions live under other keys it does not ask for.
import { Effect, Layer, Option } from "effect"
import { StateNotVisible, StateStore, StateStoreFailure, type StateStoreService } from "../../core/ports/StateStore.js"
import type { MarketoInstanceStub, Pointer } from "./MarketoInstanceApi.js"
import { rpcCall } from "./RpcCall.js"

/** The part of a KVNamespace this store uses (a real binding satisfies it). */
export interface KvValues {
  get(key: string): Promise<string | null>
  put(key: string, value: string): Promise<void>
  delete(key: string): Promise<void>
}

export type PointerStore = Pick<MarketoInstanceStub, "allocateVersions" | "getPointers" | "commit" | "remove" | "list">

/** The KV key holding one version of a record. */
export const versionedKey = (key: string, version: number): string => `${key}@${version}`

// Workers allow a bounded number of simultaneous outbound operations per invocation.
const kvConcurrency = 8

export const make = (kv: KvValues, pointers: PointerStore): StateStoreService => {
  const failure = (key: string) => (cause: unknown) =>
    new StateStoreFailure({ key, message: cause instanceof Error ? cause.message : String(cause) })

  const rpc = <A>(key: string, method: string, call: () => Promise<A>) =>
    rpcCall(method, call).pipe(Effect.mapError((e) => failure(key)(e.cause)))

  const kvGet = (key: string, version: number) =>
    Effect.tryPromise({ try: () => kv.get(versionedKey(key, version)), catch: failure(key) }).pipe(
      Effect.flatMap((value) => value === null ? Effect.fail(new StateNotVisible({ key })) : Effect.succeed(value))
    )

  // Old versions are unreachable once the pointer has moved; deleting them only saves space, so a
  // failure here is not the caller's problem.
  const deleteVersions = (versions: ReadonlyArray<Pointer>) =>
    Effect.forEach(
      versions,
      ({ key, version }) => Effect.ignore(Effect.tryPromise(() => kv.delete(versionedKey(key, version)))),
      { concurrency: kvConcurrency, discard: true }
    )

  const getMany = Effect.fn("KvStateStore.getMany")(function*(keys: ReadonlyArray<string>) {
    const found = new Map((yield* rpc(keys[0] ?? "", "getPointers", () => pointers.getPointers(keys))).map((p) => [p.key, p.version]))
    const values = yield* Effect.forEach(
      keys,
      (key) => {
        const version = found.get(key)
        return version === undefined
          ? Effect.succeed([key, Option.none<string>()] as const)
          : Effect.map(kvGet(key, version), (value) => [key, Option.some(value)] as const)
      },
      { concurrency: kvConcurrency }
    )
    return new Map(values) as ReadonlyMap<string, Option.Option<string>>
  })

  const setMany = Effect.fn("KvStateStore.setMany")(function*(entries: ReadonlyArray<readonly [string, string]>) {
    // One version per key; a key given twice keeps its last value.
    const latest = [...new Map(entries.map(([k, v]) => [k, v] as const))]
    if (latest.length === 0) return
    const first = latest[0]![0]
    const versions = yield* rpc(first, "allocateVersions", () => pointers.allocateVersions(latest.length))
    const writes = latest.map(([key, value], i) => [key, value, versions[i]!] as const)
    yield* Effect.forEach(
      writes,
      ([key, value, version]) => Effect.tryPromise({ try: () => kv.put(versionedKey(key, version), value), catch: failure(key) }),
      { concurrency: kvConcurrency, discard: true }
    )
    // Every value is in KV: move all pointers at once, so readers see the whole batch or none of it.
    const committed = yield* rpc(first, "commit", () => pointers.commit(writes.map(([key, , version]) => ({ key, version }))))
    yield* deleteVersions(committed.flatMap((c): Array<Pointer> =>
      c.applied ? (c.previous === null ? [] : [{ key: c.key, version: c.previous }]) : [{ key: c.key, version: c.version }]
    ))
  })

  const remove = Effect.fn("KvStateStore.remove")(function*(keys: ReadonlyArray<string>) {
    if (keys.length === 0) return
    const removed = yield* rpc(keys[0]!, "remove", () => pointers.remove(keys))
    yield* deleteVersions(removed)
  })

  const list = Effect.fn("KvStateStore.list")(function*(prefix: string) {
    const found = yield* rpc(prefix, "list", () => pointers.list(prefix))
    return found.map((p) => p.key)
  })

  return {
    get: (key) => Effect.map(getMany([key]), (m) => m.get(key) ?? Option.none()),
    getMany: (keys) => keys.length === 0 ? Effect.succeed(new Map()) : getMany(keys),
    set: (key, value) => setMany([[key, value]]),
    setMany,
    remove,
    list
  }
}

export const layer = (kv: KvValues, pointers: PointerStore): Layer.Layer<StateStore> =>
  Layer.succeed(StateStore, make(kv, pointers))
