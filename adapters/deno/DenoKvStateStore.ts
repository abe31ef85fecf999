// StateStore over Deno KV. Deno KV is strongly consistent, so no pointer indirection is needed
// for visibility (a read always sees the last commit: never StateNotVisible); but one entry holds
// at most 64 KiB and a ledger shard reaches megabytes, so each key has a small head entry naming
// the current version of its value, and the value lives in chunk entries under that version:
//   [...prefix, "state", "head", key]             → { id, chunks, bytes }
//   [...prefix, "state", "chunk", key, id, n]     → bytes n·64 KiB … of the value's UTF-8
// A write puts its chunks under a fresh id (invisible: no head names it), then moves the heads of
// its whole batch in one atomic operation that checks each head's versionstamp (a conflict reads
// the heads again), then deletes the chunks of the versions it replaced. A reader reads the heads,
// then the chunks they name; chunks deleted meanwhile (a newer version committed) mean read again.
import { Effect, Layer, Option } from "effect"
import { StateStore, StateStoreFailure, type StateStoreService } from "../../core/ports/StateStore.js"
import { DenoKv, type DenoKvService } from "./DenoKv.js"
import { KvConflict, KvFailure, kvTry, retryConflicts } from "./KvAtomic.js"
import { apply, fits, groups, type Mutation, packOperations, sizeOf } from "./KvBatches.js"
import { KvLimits } from "./KvLimits.js"
import { fromChunks, toChunks } from "./ValueChunks.js"

interface Head {
  /** The version: a fresh random id per write, so chunks of two writes never share a key. */
  readonly id: string
  readonly chunks: number
  readonly bytes: number
}

// Reads and deletes of chunk groups in flight at once.
const concurrency = 8

export const make = ({ kv, prefix }: DenoKvService): StateStoreService => {
  const headKey = (key: string): Deno.KvKey => [...prefix, "state", "head", key]
  const chunkKey = (key: string, id: string, n: number): Deno.KvKey => [...prefix, "state", "chunk", key, id, n]
  const chunkKeys = (key: string, head: Head) => Array.from({ length: head.chunks }, (_, n) => chunkKey(key, head.id, n))

  /**
   * The heads of `keys` as they all stood at one instant. One getMany reads at most 10 keys at one
   * instant; for more, the reads are followed by check-only operations over everything read: if
   * none of the heads changed between its read and the check, all of them held at once between the
   * last read and the first check (versionstamps never repeat). A writer, whose commit checks
   * the heads anyway, skips that (`atOnce` false).
   */
  const readHeads = (keys: ReadonlyArray<string>, atOnce = true) =>
    Effect.gen(function*() {
      const parts = groups(keys, KvLimits.getMany)
      const read = yield* Effect.forEach(parts, (part) => kvTry("getMany", () => kv.getMany<Array<Head>>(part.map(headKey))), { concurrency })
      const entries = read.flat()
      if (atOnce && parts.length > 1) {
        const unchanged = yield* Effect.forEach(
          groups(entries, KvLimits.checks),
          (part) => kvTry("check", () => part.reduce((op, e) => op.check(e), kv.atomic()).commit()),
          { concurrency }
        )
        if (unchanged.some((r) => !r.ok)) return yield* new KvConflict()
      }
      return new Map(keys.map((key, i) => [key, entries[i]!] as const))
    })

  /** The values of `keys` at one instant. */
  const readValues = (keys: ReadonlyArray<string>) =>
    Effect.gen(function*() {
      const heads = yield* readHeads(keys)
      const wanted = keys.flatMap((key) => {
        const head = heads.get(key)?.value
        return head === null || head === undefined ? [] : chunkKeys(key, head)
      })
      const read = yield* Effect.forEach(groups(wanted, KvLimits.getMany), (part) => kvTry("getMany", () => kv.getMany<Array<Uint8Array>>(part)), {
        concurrency
      })
      const chunks = read.flat()
      // A missing chunk: a newer version was committed and this one's chunks deleted since the
      // heads were read. Read again: the value is the newer one.
      if (chunks.some((c) => c.value === null)) return yield* new KvConflict()
      let at = 0
      return new Map(keys.map((key) => {
        const head = heads.get(key)?.value ?? null
        if (head === null) return [key, Option.none<string>()] as const
        const mine = chunks.slice(at, at + head.chunks).map((c) => c.value!)
        at += head.chunks
        return [key, Option.some(fromChunks(mine, head.bytes))] as const
      }))
    })

  const failure = (key: string) => (e: KvFailure) => new StateStoreFailure({ key, message: `${e.operation}: ${e.message}` })

  // The chunks of replaced or removed versions: nothing names them any more. A failed delete
  // leaves them as garbage, never as data a reader could see.
  const deleteChunks = (gone: ReadonlyArray<readonly [string, Head]>) =>
    Effect.forEach(
      packOperations(gone.flatMap(([key, head]) => chunkKeys(key, head).map((k): Mutation => ({ type: "delete", key: k })))),
      (part) => Effect.ignore(kvTry("delete", () => apply(kv.atomic(), part).commit())),
      { concurrency, discard: true }
    )

  const getMany = Effect.fn("DenoKvStateStore.getMany")(function*(keys: ReadonlyArray<string>) {
    const unique = [...new Set(keys)]
    if (unique.length === 0) return new Map<string, Option.Option<string>>()
    return yield* retryConflicts("read", readValues(unique)).pipe(Effect.mapError(failure(unique[0]!)))
  })

  const setMany = Effect.fn("DenoKvStateStore.setMany")(function*(entries: ReadonlyArray<readonly [string, string]>) {
    // One version per key; a key given twice keeps its last value.
    const latest = [...new Map(entries.map(([k, v]) => [k, v] as const))]
    if (latest.length === 0) return
    const first = latest[0]![0]
    // The heads move in one operation, one check each: a batch cannot hold more keys than that.
    if (latest.length > KvLimits.checks) {
      return yield* new StateStoreFailure({ key: first, message: `a batch of ${latest.length} keys is more than one atomic commit holds (${KvLimits.checks})` })
    }
    const writes = latest.map(([key, value]) => {
      const { bytes, chunks } = toChunks(value)
      return { key, head: { id: crypto.randomUUID(), chunks: chunks.length, bytes } satisfies Head, chunks }
    })
    const chunkSets = writes.flatMap(({ key, head, chunks }) =>
      chunks.map((value, n): Mutation => ({ type: "set", key: chunkKey(key, head.id, n), value, bytes: value.length })))
    const headSets = writes.map(({ key, head }): Mutation => ({ type: "set", key: headKey(key), value: head, bytes: 128 }))
    const heads = writes.map(({ key }) => headKey(key))
    if (!fits(sizeOf(headSets, heads))) {
      return yield* new StateStoreFailure({ key: first, message: "the batch's keys are too long for one atomic commit" })
    }
    // Small batches go in one operation with their heads; larger ones write their chunks first.
    const together = fits(sizeOf([...chunkSets, ...headSets], heads))
    if (!together) {
      yield* Effect.forEach(packOperations(chunkSets), (part) => kvTry("set", () => apply(kv.atomic(), part).commit()), {
        concurrency,
        discard: true
      }).pipe(Effect.mapError(failure(first)))
    }
    const commit = Effect.gen(function*() {
      const current = yield* readHeads(writes.map((w) => w.key), false)
      const checked = () => [...current.values()].reduce((o, entry) => o.check(entry), kv.atomic())
      const result = yield* kvTry("commit", () => apply(checked(), together ? [...chunkSets, ...headSets] : headSets).commit())
      if (!result.ok) return yield* new KvConflict()
      return [...current].flatMap(([key, entry]) => (entry.value === null ? [] : [[key, entry.value] as const]))
    })
    const replaced = yield* retryConflicts("commit", commit).pipe(Effect.mapError(failure(first)))
    yield* deleteChunks(replaced)
  })

  const remove = Effect.fn("DenoKvStateStore.remove")(function*(keys: ReadonlyArray<string>) {
    const unique = [...new Set(keys)]
    if (unique.length === 0) return
    // Removal need not be one commit: each group of keys is removed with its heads checked, so
    // the chunks deleted after are exactly those of the versions removed.
    for (const part of groups(unique, KvLimits.checks)) {
      const removeHeads = Effect.gen(function*() {
        const current = [...(yield* readHeads(part, false))].filter(([, entry]) => entry.value !== null)
        if (current.length === 0) return []
        const result = yield* kvTry("remove", () => current.reduce((o, [key, entry]) => o.check(entry).delete(headKey(key)), kv.atomic()).commit())
        if (!result.ok) return yield* new KvConflict()
        return current.map(([key, entry]) => [key, entry.value!] as const)
      })
      yield* deleteChunks(yield* retryConflicts("remove", removeHeads).pipe(Effect.mapError(failure(part[0]!))))
    }
  })

  const list = Effect.fn("DenoKvStateStore.list")(function*(prefixOfKeys: string) {
    // Every key that starts with the prefix sorts from the prefix itself up to the prefix followed
    // by the highest code point; Deno KV answers in key order (UTF-8 bytes, as SQLite on Cloudflare).
    const selector = { start: headKey(prefixOfKeys), end: headKey(`${prefixOfKeys}\u{10FFFF}`) }
    return yield* kvTry("list", async () => {
      const keys: Array<string> = []
      for await (const entry of kv.list<Head>(selector, { batchSize: 500 })) keys.push(entry.key[entry.key.length - 1] as string)
      return keys as ReadonlyArray<string>
    }).pipe(Effect.mapError(failure(prefixOfKeys)))
  })

  return {
    get: (key) => Effect.map(getMany([key]), (m) => m.get(key) ?? Option.none()),
    getMany,
    set: (key, value) => setMany([[key, value]]),
    setMany,
    remove,
    list
  }
}

export const layer: Layer.Layer<StateStore, never, DenoKv> = Layer.effect(StateStore, Effect.map(DenoKv, make))
