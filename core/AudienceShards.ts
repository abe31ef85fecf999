// Reading and writing one audience's record and ledger shards, and collecting its delta shard by
// shard under a cap, so a tick holds only the shards it works on — never the whole audience.
import { Effect, Option, Schema } from "effect"
import { AudienceRecord, AudienceRecordJson, type ShardCounts } from "./AudienceRecord.js"
import type { AudienceClass, AudienceKey, ListId } from "./Ids.js"
import { emptyShard, shardCounts, shardDelta } from "./Ledger.js"
import type { LedgerShard } from "./LedgerShard.js"
import type { MembershipChange } from "./MembershipChange.js"
import type { AudienceDelta, PlannedEmail } from "./PlannedEmail.js"
import { StateStore, StateStoreFailure } from "./ports/StateStore.js"
import { DEFAULT_SHARD_COUNT } from "./Sharding.js"
import { applyEffect, type ShardSet } from "./ShardEffects.js"
import type { StepEffect } from "./StepEffect.js"
import { StateKeys } from "./StateKeys.js"

export interface DeltaLimits {
  /** Stop collecting adds past this many emails (the rest waits for the next tick). */
  readonly maxAdds: number
  readonly maxRemoves: number
}
export const defaultDeltaLimits: DeltaLimits = { maxAdds: 100_000, maxRemoves: 30_000 }

const corrupt = (key: string) => (error: unknown) =>
  new StateStoreFailure({ key, message: `stored value does not decode: ${String(error).slice(0, 200)}` })

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
 * A shard's encoded form is its value as plain JSON (no field of LedgerShard transforms), so it is
 * written with JSON.stringify: encoding through the schema re-validated every record of every
 * shard written and was the largest cost of a tick. Reading still decodes through the schema, and
 * a test pins that both encodings agree.
 */
export const encodeShard = (key: AudienceKey, shard: LedgerShard): readonly [string, string] =>
  [StateKeys.shard(key, shard.shard), JSON.stringify(shard)]

/**
 * A stored shard, read back. Shards are only ever written by `encodeShard` from values the
 * LedgerShard schema describes, so reading checks the frame (JSON, audience, shard number, an
 * emails object) and trusts the records: validating every record through the schema was most of
 * a large tick's CPU (6.5 s against 1.7 s per million records, measured).
 */
export const decodeStoredShard = (json: string, key: string): Effect.Effect<LedgerShard, StateStoreFailure> =>
  Effect.try({
    try: () => {
      const value: unknown = JSON.parse(json)
      const frame = value as Partial<LedgerShard> | null
      if (
        typeof frame !== "object" || frame === null || typeof frame.audience !== "string" || !Number.isInteger(frame.shard) ||
        typeof frame.emails !== "object" || frame.emails === null || Array.isArray(frame.emails)
      ) throw new Error("not a ledger shard")
      return value as LedgerShard
    },
    catch: corrupt(key)
  })

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

/** Shards whose counts say they have adds or removes to make, in shard order. */
export const shardsWithWork = (record: AudienceRecord): ReadonlyArray<number> =>
  Object.entries(record.shards)
    .filter(([, c]) => (record.removal === "empty" ? c.synced > 0 : c.pendingAdd > 0 || c.pendingRemove > 0))
    .map(([n]) => Number(n))
    .sort((a, b) => a - b)

export const shardsImporting = (record: AudienceRecord): ReadonlyArray<number> =>
  Object.entries(record.shards).filter(([, c]) => c.importing > 0).map(([n]) => Number(n))

/**
 * The part of a shard a plan works on: the records of these emails only, without their holders
 * (what the steps read is the list side: synced, lead ids, import, refusal), so a tick's memory
 * is a small record per email of its delta.
 */
const sliceOf = (shard: LedgerShard, emails: ReadonlyArray<string>): LedgerShard => {
  const records: Record<string, LedgerShard["emails"][string]> = {}
  for (const e of emails) {
    const r = shard.emails[e]
    if (r !== undefined) records[e] = { ...r, holders: [] }
  }
  return { ...shard, emails: records }
}

/**
 * Read shards with work one at a time until the caps are reached and collect the delta. Each
 * shard read gets the `replayed` effects (a stopped tick's journal) first, and only its slice (the
 * records of its delta) is kept in `slices`: a tick holds its delta, never the audience. A shard
 * already in `slices` is not read again (a slice has no holders to compute a delta from).
 */
export const collectDelta = Effect.fn("AudienceShards.collectDelta")(function*(
  record: AudienceRecord,
  folderName: string,
  limits: DeltaLimits,
  slices: ShardSet,
  replayed: ReadonlyArray<StepEffect> = []
) {
  const add: Array<PlannedEmail> = []
  const remove: Array<PlannedEmail> = []
  for (const n of shardsWithWork(record)) {
    const addsFull = add.length >= limits.maxAdds
    const removesFull = remove.length >= limits.maxRemoves
    if (addsFull && removesFull) break
    // Read a shard only for work of a kind still under its cap: once the adds are full, a
    // million-member audience must not be read whole looking for removes.
    const counts = record.shards[String(n)]
    const removesHere = record.removal === "empty" ? (counts?.synced ?? 0) > 0 : (counts?.pendingRemove ?? 0) > 0
    const addsHere = record.removal !== "empty" && (counts?.pendingAdd ?? 0) > 0
    if ((addsFull || !addsHere) && (removesFull || !removesHere)) continue
    if (slices.has(n)) continue
    const whole = yield* loadShards(record.key, [n])
    for (const effect of replayed) applyEffect(whole, record.shardCount, effect, { inPlace: true })
    const shard = whole.get(n)!
    // An audience removed with "empty" wants nobody: every email on the list leaves it.
    const delta = record.removal === "empty"
      ? { add: [], remove: Object.keys(shard.emails).filter((e) => shard.emails[e]!.synced).sort() }
      : shardDelta(shard, record.audienceClass)
    const planned = (email: string): PlannedEmail => {
      const leadIds = shard.emails[email]?.leadIds
      return leadIds === undefined ? { email: email as PlannedEmail["email"] } : { email: email as PlannedEmail["email"], leadIds }
    }
    const takeAdds = add.length < limits.maxAdds ? delta.add : []
    const takeRemoves = remove.length < limits.maxRemoves ? delta.remove : []
    for (const e of takeAdds) add.push(planned(e))
    for (const e of takeRemoves) remove.push(planned(e))
    slices.set(n, sliceOf(shard, [...takeAdds, ...takeRemoves]))
  }
  const delta: AudienceDelta = {
    audience: record.key,
    listName: record.displayName ?? record.key,
    folderName,
    add,
    remove,
    pendingImports: record.pendingImports,
    ...(record.listId === undefined ? {} : { listId: record.listId }),
    ...(record.externalListId === undefined ? {} : { externalListId: record.externalListId })
  }
  return delta
})

export type ChangesByAudience = ReadonlyMap<AudienceKey, ReadonlyArray<MembershipChange>>
