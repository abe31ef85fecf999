// Each ledger shard is kept in two parts, so that the work of a tick follows its changes rather
// than the size of the shards they fall in:
//   - its base (`aud/<k>/shard/<n>`), every record as of the last compaction, as sorted lines
//     searched without parsing the rest (core/2-ledger/BaseLines.ts);
//   - its pending index (`aud/<k>/shard/<n>/pending`): the records newer than the base, which
//     always include every record with list work pending (to add, to remove, in a running import),
//     the counts of the base's other records (`outside`) and the shard's size.
// A record in the index overrides the base's. The fold looks up in the base the records of the
// emails it changes (it needs their holders) but writes only the index; the delta and the
// checkpoint's flush read and write only the index. Once the index holds enough records without
// work (done since the base was written), a fold or a flush splices them into the base's text:
// the compaction, which parses none of the base's other records.
import { Effect, Option } from "effect"
import type { Email } from "../1-events/Email.js"
import type { AudienceClass, AudienceKey } from "../1-events/Ids.js"
import type { ShardCounts } from "./AudienceRecord.js"
import { decodeStoredBase, decodeStoredShard, encodeShard } from "./AudienceShards.js"
import { baseLineKeys, decodeFilter, encodeFilter, filterOf, mayHold } from "./BaseFilter.js"
import { type StoredBase, wholeBase } from "./BaseLines.js"
import { emptyShard, hasPendingWork, shardCounts } from "./Ledger.js"
import type { EmailRecord, LedgerShard, ShardSet } from "./LedgerShard.js"
import { StateStore } from "../ports/StateStore.js"
import { StateKeys } from "./StateKeys.js"

const zero: ShardCounts = { desired: 0, synced: 0, pendingAdd: 0, pendingRemove: 0, importing: 0, refused: 0, pendingUpdate: 0 }

const add = (a: ShardCounts, b: ShardCounts, sign = 1): ShardCounts => ({
  desired: a.desired + sign * b.desired,
  synced: a.synced + sign * b.synced,
  pendingAdd: a.pendingAdd + sign * b.pendingAdd,
  pendingRemove: a.pendingRemove + sign * b.pendingRemove,
  importing: a.importing + sign * b.importing,
  refused: a.refused + sign * b.refused,
  pendingUpdate: (a.pendingUpdate ?? 0) + sign * (b.pendingUpdate ?? 0)
})

/** The shard's counts, from its pending index alone. */
export const countsOfIndex = (index: LedgerShard, audienceClass: AudienceClass): ShardCounts =>
  add(index.outside ?? zero, shardCounts(index, audienceClass))

/** The index of a base that has none yet (written before indexes, or empty): its pending records. */
const indexOf = (base: LedgerShard, audienceClass: AudienceClass): LedgerShard => {
  const emails: Record<string, EmailRecord> = {}
  for (const email of Object.keys(base.emails)) {
    const record = base.emails[email]!
    if (hasPendingWork(record)) emails[email] = record
  }
  return { audience: base.audience, shard: base.shard, emails, outside: shardCounts(base, audienceClass, emails), size: Object.keys(base.emails).length }
}

/**
 * A shard as a whole: the base with the index's records over it. A decoded base is changed (the
 * caller owns it); a stored one is parsed whole here.
 */
export const merged = (base: LedgerShard | StoredBase, index: LedgerShard): LedgerShard => {
  const whole = "whole" in base ? base.whole() : base
  const emails = whole.emails as Record<string, EmailRecord>
  for (const email of Object.keys(index.emails)) emails[email] = index.emails[email]!
  return { audience: whole.audience, shard: whole.shard, emails }
}

const decodeOr = (key: string, value: Option.Option<string> | undefined) =>
  value === undefined || Option.isNone(value) ? Effect.succeed(undefined) : decodeStoredShard(value.value, key)

/** A stored base (an absent one is empty). */
const baseOr = (audience: AudienceKey, n: number, key: string, value: Option.Option<string> | undefined) =>
  value === undefined || Option.isNone(value) ? Effect.succeed(wholeBase(emptyShard(audience, n))) : decodeStoredBase(value.value, key)

/** Emails in the shard: the index's count, or (an index written before it kept one) counted. */
export const sizeOf = (base: StoredBase, index: LedgerShard): number => {
  if (index.size !== undefined) return index.size
  let n = base.size
  for (const email of Object.keys(index.emails)) if (!base.has(email)) n++
  return n
}

/** A shard's index over its base (an index missing is made from the base; counts it lacks, counted once). */
const withBase = (base: StoredBase, stored: LedgerShard | undefined, audienceClass: AudienceClass) => {
  const index = stored ?? indexOf(base.whole(), audienceClass)
  // An index written before it kept the counts of the base's other records: counted once.
  const own = index as { outside?: ShardCounts }
  if (own.outside === undefined) own.outside = shardCounts(base.whole(), audienceClass, index.emails)
  return { base, index }
}

/** Both parts of these shards, read in one batch (an index missing is made from its base). */
export const loadParts = Effect.fn("PendingIndex.loadParts")(function*(key: AudienceKey, numbers: ReadonlyArray<number>, audienceClass: AudienceClass) {
  const store = yield* StateStore
  const baseKeys = numbers.map((n) => StateKeys.shard(key, n))
  const indexKeys = numbers.map((n) => StateKeys.shardPending(key, n))
  const values = yield* store.getMany([...baseKeys, ...indexKeys])
  const parts = new Map<number, { base: StoredBase; index: LedgerShard }>()
  for (const [i, n] of numbers.entries()) {
    const base = yield* baseOr(key, n, baseKeys[i]!, values.get(baseKeys[i]!))
    parts.set(n, withBase(base, yield* decodeOr(indexKeys[i]!, values.get(indexKeys[i]!)), audienceClass))
  }
  return parts
})

/** A shard as a fold reads it: its index, and its base unless none of the fold's emails can be in it. */
export interface FoldParts {
  /** Not read: the base's filter says it holds none of the emails the fold changes. */
  readonly base: StoredBase | undefined
  readonly index: LedgerShard
}

/**
 * What a fold needs of these shards. A shard whose changes include a member leaving (an email the
 * ledger most likely holds) is read whole at once, as `loadParts` reads it. For the others (members
 * entering, most of them new) the index and the base's filter are read first, and the base only
 * if an email not in the index may be in it (core/2-ledger/BaseFilter.ts): a load of new members
 * reads no base, however large the shards have grown.
 */
export const loadForFold = Effect.fn("PendingIndex.loadForFold")(function*(
  key: AudienceKey,
  numbers: ReadonlyArray<number>,
  audienceClass: AudienceClass,
  /** The emails the fold changes in a shard, and whether it reads the base anyway. */
  changesOf: (n: number) => { readonly emails: ReadonlyArray<string>; readonly baseLikely: boolean }
) {
  const store = yield* StateStore
  const changes = new Map(numbers.map((n) => [n, changesOf(n)] as const))
  const eager = numbers.filter((n) => changes.get(n)!.baseLikely)
  const lazy = numbers.filter((n) => !changes.get(n)!.baseLikely)
  const indexKey = (n: number) => StateKeys.shardPending(key, n)
  const filterKey = (n: number) => StateKeys.shardFilter(key, n)
  const values = yield* store.getMany([...eager.map((n) => StateKeys.shard(key, n)), ...numbers.map(indexKey), ...lazy.map(filterKey)])
  const parts = new Map<number, FoldParts>()
  const needBase: Array<number> = [...eager]
  const indexes = new Map<number, LedgerShard | undefined>()
  for (const n of numbers) indexes.set(n, yield* decodeOr(indexKey(n), values.get(indexKey(n))))
  for (const n of lazy) {
    const index = indexes.get(n)
    const stored = values.get(filterKey(n))
    const filter = stored === undefined || Option.isNone(stored) ? undefined : decodeFilter(stored.value)
    // No filter (a base written before them), or an index of an earlier layout: read as before.
    const known = index !== undefined && index.size !== undefined && index.outside !== undefined && filter !== undefined
    if (known && !changes.get(n)!.emails.some((e) => index.emails[e] === undefined && mayHold(filter, e))) parts.set(n, { base: undefined, index })
    else needBase.push(n)
  }
  const later = needBase.filter((n) => !eager.includes(n))
  const bases = later.length === 0 ? values : new Map([...values, ...(yield* store.getMany(later.map((n) => StateKeys.shard(key, n))))])
  for (const n of needBase) {
    const base = yield* baseOr(key, n, StateKeys.shard(key, n), bases.get(StateKeys.shard(key, n)))
    parts.set(n, withBase(base, indexes.get(n), audienceClass))
  }
  return parts
})

/** The pending indexes of these shards; a base is read only for a shard that has no index yet. */
export const loadIndexes = Effect.fn("PendingIndex.loadIndexes")(function*(key: AudienceKey, numbers: ReadonlyArray<number>, audienceClass: AudienceClass) {
  const store = yield* StateStore
  const keys = numbers.map((n) => StateKeys.shardPending(key, n))
  const values = yield* store.getMany(keys)
  const indexes: ShardSet = new Map()
  const missing: Array<number> = []
  for (const [i, n] of numbers.entries()) {
    const index = yield* decodeOr(keys[i]!, values.get(keys[i]!))
    if (index === undefined) missing.push(n)
    else indexes.set(n, index)
  }
  if (missing.length > 0) {
    for (const [n, { index }] of yield* loadParts(key, missing, audienceClass)) indexes.set(n, index)
  }
  return indexes
})

/**
 * Bring into the indexes the records of these emails that only their base holds (a compaction
 * since they were planned moved them there), so effects on them are not lost. Reads the base of
 * a shard only when one of its emails is missing from its index.
 */
export const promote = Effect.fn("PendingIndex.promote")(function*(
  key: AudienceKey,
  indexes: ShardSet,
  emailsByShard: ReadonlyMap<number, ReadonlyArray<Email>>,
  audienceClass: AudienceClass
) {
  const lacking = [...emailsByShard].filter(([n, emails]) => {
    const index = indexes.get(n)
    return index !== undefined && emails.some((e) => index.emails[e] === undefined)
  }).map(([n]) => n)
  if (lacking.length === 0) return
  for (const [n, base] of yield* loadBases(key, lacking)) promoteFrom(base, indexes.get(n)!, emailsByShard.get(n)!, audienceClass)
})

/** The stored bases of these shards (an absent one is empty), read lazily. */
export const loadBases = Effect.fn("PendingIndex.loadBases")(function*(key: AudienceKey, numbers: ReadonlyArray<number>) {
  const store = yield* StateStore
  const keys = numbers.map((n) => StateKeys.shard(key, n))
  const values = yield* store.getMany(keys)
  const bases = new Map<number, StoredBase>()
  for (const [i, n] of numbers.entries()) bases.set(n, yield* baseOr(key, n, keys[i]!, values.get(keys[i]!)))
  return bases
})

/** Move these emails' records from the base into the index (the index owns it), moving their counts too. */
export const promoteFrom = (base: StoredBase, index: LedgerShard, emails: ReadonlyArray<string>, audienceClass: AudienceClass): void => {
  const moved: Record<string, EmailRecord> = {}
  const target = index.emails as Record<string, EmailRecord>
  for (const email of emails) {
    if (target[email] !== undefined) continue
    const record = base.get(email)
    if (record === undefined) continue
    moved[email] = record
    target[email] = record
  }
  const own = index as { outside?: ShardCounts }
  own.outside = add(index.outside ?? zero, shardCounts({ audience: base.audience, shard: base.shard, emails: moved }, audienceClass), -1)
}

/** Records in the index with no work left: compaction is due when there are many of them. */
const settled = (index: LedgerShard): number => {
  let n = 0
  for (const email of Object.keys(index.emails)) if (!hasPendingWork(index.emails[email]!)) n++
  return n
}

/**
 * Whether a fold, which holds the base's text anyway, should splice the index into it. A splice
 * parses no record of the base, so it is cheap; what it costs is writing the base again.
 */
export const foldShouldCompact = (index: LedgerShard, size: number): boolean =>
  settled(index) > Math.max(128, size / 32)

/**
 * Whether a flush, which must then read the base, should merge the index into it: once the records
 * with no work left are an eighth of the shard. A load's confirmed import settles records in every
 * shard at once, and the fold of new members reads no base, so this is where a load's indexes
 * shrink. Until then each settled record is parsed and written again by every fold, delta and
 * flush of its shard; a splice costs about as much as 10,000 such passes (`npm run
 * bench:compaction`), so for a load settling a few hundred records a tick in each shard the sum is
 * least near an eighth of a 21,000-member shard (docs/ledger.md, "Base and pending index").
 */
export const flushShouldCompact = (index: LedgerShard): boolean => {
  const outside = index.outside ?? zero
  // An index written before it kept the shard's size: the base's records, counted once.
  const size = index.size ?? (outside.desired + outside.synced) / 2 + Object.keys(index.emails).length
  return settled(index) > Math.max(1_000, size / 8)
}

/**
 * The writes of a compaction of a stored base: the index's records spliced into the base's text
 * (no other record parsed), the filter of its emails, then the index's pending records as the new
 * index. A stop in between leaves the old index over the new base, which says the same. The
 * filter is written in the same batch as the base (setMany: all or nothing to readers), so a
 * reader never meets a base with a filter that lacks one of its emails.
 */
export const splicedEntries = (key: AudienceKey, base: StoredBase, index: LedgerShard, audienceClass: AudienceClass): ReadonlyArray<readonly [string, string]> => {
  const spliced = base.withRecords(index.emails)
  const pending: Record<string, EmailRecord> = {}
  const leaving: Record<string, EmailRecord> = {}
  for (const email of Object.keys(index.emails)) {
    const record = index.emails[email]!
    if (hasPendingWork(record)) pending[email] = record
    else leaving[email] = record
  }
  const outside = add(index.outside ?? zero, shardCounts({ audience: key, shard: index.shard, emails: leaving }, audienceClass))
  return [
    [StateKeys.shard(key, index.shard), spliced.text],
    filterEntry(key, index.shard, spliced.text, spliced.size),
    indexEntry(key, { audience: key, shard: index.shard, emails: pending, outside, size: spliced.size })
  ]
}

/** The filter of a base's emails (core/2-ledger/BaseFilter.ts), written in the same batch as the base. */
const filterEntry = (key: AudienceKey, shard: number, baseText: string, size: number): readonly [string, string] =>
  [StateKeys.shardFilter(key, shard), encodeFilter(filterOf(baseLineKeys(baseText), size))]

/** The writes of the index alone. */
export const indexEntry = (key: AudienceKey, index: LedgerShard): readonly [string, string] =>
  [StateKeys.shardPending(key, index.shard), JSON.stringify(index)]

/**
 * The writes of a compaction: the whole shard as the new base, the filter of its emails, then its
 * pending records as the new index. Written in this order, a stop in between leaves the old index
 * over the new base, which says the same; base and filter go in the same batch.
 */
export const compactedEntries = (key: AudienceKey, whole: LedgerShard, audienceClass: AudienceClass): ReadonlyArray<readonly [string, string]> => {
  const base: LedgerShard = { audience: whole.audience, shard: whole.shard, emails: whole.emails }
  const [baseKey, text] = encodeShard(key, base)
  return [[baseKey, text], filterEntry(key, whole.shard, text, Object.keys(base.emails).length), indexEntry(key, indexOf(base, audienceClass))]
}
