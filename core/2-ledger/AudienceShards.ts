// Reading and writing one audience's record and ledger shards, a few shards at a time, so a tick
// holds only the shards it works on — never the whole audience.
import { Effect, Option, Schema } from "effect"
import { AudienceRecord, AudienceRecordJson, type ShardCounts } from "./AudienceRecord.js"
import type { AudienceClass, AudienceKey, ListId } from "../1-events/Ids.js"
import { encodeBaseLines, isBaseLines, readBaseLines, type StoredBase, wholeBase } from "./BaseLines.js"
import { emptyShard, shardCounts } from "./Ledger.js"
import type { LedgerShard, ShardSet } from "./LedgerShard.js"
import type { MembershipChange } from "../1-events/MembershipChange.js"
import { StateStore, StateStoreFailure } from "../ports/StateStore.js"
import { DEFAULT_SHARD_COUNT } from "./Sharding.js"
import { StateKeys } from "./StateKeys.js"

const corrupt = (key: string) => (error: unknown) =>
  error instanceof StateStoreFailure ? error : new StateStoreFailure({ key, message: `stored value does not decode: ${String(error).slice(0, 200)}` })

export const newRecord = (key: AudienceKey, audienceClass: AudienceClass, externalListId?: ListId): AudienceRecord => ({
  key,
  audienceClass,
  shardCount: DEFAULT_SHARD_COUNT,
  shards: {},
  withoutEmail: 0,
  pendingImports: [],
  ...(externalListId === undefined ? {} : { externalListId })
})

export const readRecord = Effect.fn("AudienceShards.readRecord")(function*(key: AudienceKey) {
  const store = yield* StateStore
  const k = StateKeys.audience(key)
  const json = yield* store.get(k)
  if (Option.isNone(json)) return Option.none<AudienceRecord>()
  return Option.some(yield* Schema.decodeUnknown(AudienceRecordJson)(json.value).pipe(Effect.mapError(corrupt(k))))
})

export const encodeRecord = (record: AudienceRecord): readonly [string, string] =>
  [StateKeys.audience(record.key), Schema.encodeSync(AudienceRecordJson)(record)]

/**
 * A shard's base as stored: its records as sorted lines (core/2-ledger/BaseLines.ts), each the
 * record's plain JSON (no field of LedgerShard transforms, so JSON.stringify writes what the
 * schema would; encoding through the schema re-validated every record and was the largest cost
 * of a tick). A test pins that reading it back gives the shard.
 */
export const encodeShard = (key: AudienceKey, shard: LedgerShard): readonly [string, string] =>
  [StateKeys.shard(key, shard.shard), encodeBaseLines(shard)]

/**
 * A stored shard, read back. Shards are only ever written by `encodeShard` from values the
 * LedgerShard schema describes, so reading checks the frame (JSON, audience, shard number, an
 * emails object) and trusts the records: validating every record through the schema was most of
 * a large tick's CPU (6.5 s against 1.7 s per million records, measured).
 */
export const decodeStoredShard = (json: string, key: string): Effect.Effect<LedgerShard, StateStoreFailure> =>
  Effect.try({
    try: () => {
      const value: unknown = isBaseLines(json) ? readBaseLines(json, key).whole() : JSON.parse(json)
      const frame = value as Partial<LedgerShard> | null
      if (
        typeof frame !== "object" || frame === null || typeof frame.audience !== "string" || !Number.isInteger(frame.shard) ||
        typeof frame.emails !== "object" || frame.emails === null || Array.isArray(frame.emails)
      ) throw new Error("not a ledger shard")
      return value as LedgerShard
    },
    catch: corrupt(key)
  })

/** A stored base, read lazily when it is in lines (core/2-ledger/BaseLines.ts); one written before them is decoded whole. */
export const decodeStoredBase = (json: string, key: string): Effect.Effect<StoredBase, StateStoreFailure> =>
  isBaseLines(json) ? Effect.try({ try: () => readBaseLines(json, key), catch: corrupt(key) }) : Effect.map(decodeStoredShard(json, key), wholeBase)

export const loadShards = Effect.fn("AudienceShards.load")(function*(key: AudienceKey, numbers: ReadonlyArray<number>) {
  const store = yield* StateStore
  const keys = numbers.map((n) => StateKeys.shard(key, n))
  const values = yield* store.getMany(keys)
  const shards: ShardSet = new Map()
  for (const [i, n] of numbers.entries()) {
    const json = values.get(keys[i]!) ?? Option.none()
    shards.set(n, Option.isNone(json) ? emptyShard(key, n) : yield* decodeStoredShard(json.value, keys[i]!))
  }
  return shards
})

export const countsOf = (shard: LedgerShard, audienceClass: AudienceClass): ShardCounts => shardCounts(shard, audienceClass)

/** Record the counts of the given shards in the audience record. */
export const withShardCounts = (record: AudienceRecord, shards: ShardSet): AudienceRecord => {
  const counts = { ...record.shards }
  for (const [n, shard] of shards) counts[String(n)] = countsOf(shard, record.audienceClass)
  return { ...record, shards: counts }
}

/**
 * Shards whose counts say they have adds or removes to make (or, with `updates`, changed lead
 * fields to send), in shard order.
 */
export const shardsWithWork = (record: AudienceRecord, updates = false): ReadonlyArray<number> =>
  Object.entries(record.shards)
    .filter(([, c]) =>
      record.removal === "empty" ? c.synced > 0 : c.pendingAdd > 0 || c.pendingRemove > 0 || (updates && (c.pendingUpdate ?? 0) > 0)
    )
    .map(([n]) => Number(n))
    .sort((a, b) => a - b)

export const shardsImporting = (record: AudienceRecord): ReadonlyArray<number> =>
  Object.entries(record.shards).filter(([, c]) => c.importing > 0).map(([n]) => Number(n))

export type ChangesByAudience = ReadonlyMap<AudienceKey, ReadonlyArray<MembershipChange>>
