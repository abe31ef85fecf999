// One audience's delta, read shard by shard under a cap: the shards with work are read one at a
// time, a stopped tick's journal replayed onto each, and only the records of the delta kept, so a
// tick holds its delta, never the audience. Each email carries the lead field values its lead is
// sent with; members on the list whose values changed are collected too when changes are sent.
import { layoutOf } from "../2-ledger/ShardSplit.js"
import { Clock, Effect } from "effect"
import type { AudienceRecord } from "../2-ledger/AudienceRecord.js"
import { shardsWithWork } from "../2-ledger/AudienceShards.js"
import { loadIndexes, loadParts, merged, promote } from "../2-ledger/PendingIndex.js"
import { effectsByShard } from "../4-apply/EffectsByShard.js"
import { shardDelta } from "../2-ledger/Ledger.js"
import type { LedgerShard, ShardSet } from "../2-ledger/LedgerShard.js"
import type { AudienceDelta, PlannedEmail } from "../3-plan/PlannedEmail.js"
import { applyEffect } from "../4-apply/ShardEffects.js"
import type { StepEffect } from "../4-apply/StepEffect.js"
import { fieldUpdatesOf, type LeadFieldSettings, plannedFields, sendsUpdates } from "./LeadFieldSync.js"

export interface DeltaLimits {
  /** Stop collecting adds past this many emails (the rest waits for the next tick). */
  readonly maxAdds: number
  readonly maxRemoves: number
  /** Members whose changed lead fields are sent per tick (default 30,000: 100 upserts). */
  readonly maxUpdates?: number
}
export const defaultDeltaLimits: DeltaLimits = { maxAdds: 100_000, maxRemoves: 30_000, maxUpdates: 30_000 }

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
export const collectDelta = Effect.fn("CollectDelta.collectDelta")(function*(
  record: AudienceRecord,
  folderName: string,
  limits: DeltaLimits,
  slices: ShardSet,
  replayed: ReadonlyArray<StepEffect> = [],
  leadFields?: LeadFieldSettings,
  /** No shard is read past it once one has been: the delta so far is planned, the rest waits. */
  deadline: number = Number.POSITIVE_INFINITY
) {
  const add: Array<PlannedEmail> = []
  const remove: Array<PlannedEmail> = []
  const update: Array<PlannedEmail> = []
  const updates = sendsUpdates(leadFields) && record.removal !== "empty"
  const maxUpdates = updates ? limits.maxUpdates ?? defaultDeltaLimits.maxUpdates! : 0
  let read = 0
  // The effects replayed, cut by shard once (not read whole for every shard read).
  const replayedByShard = effectsByShard(replayed, layoutOf(record))
  for (const n of shardsWithWork(record, updates)) {
    const addsFull = add.length >= limits.maxAdds
    const removesFull = remove.length >= limits.maxRemoves
    const updatesFull = update.length >= maxUpdates
    if (addsFull && removesFull && updatesFull) break
    // Read a shard only for work of a kind still under its cap: once the adds are full, a
    // million-member audience must not be read whole looking for removes.
    const counts = record.shards[String(n)]
    const removesHere = record.removal === "empty" ? (counts?.synced ?? 0) > 0 : (counts?.pendingRemove ?? 0) > 0
    const addsHere = record.removal !== "empty" && (counts?.pendingAdd ?? 0) > 0
    const updatesHere = updates && (counts?.pendingUpdate ?? 0) > 0
    if ((addsFull || !addsHere) && (removesFull || !removesHere) && (updatesFull || !updatesHere)) continue
    if (slices.has(n)) continue
    if (read++ > 0 && (yield* Clock.currentTimeMillis) >= deadline) break
    // The shard's pending index holds every record with work (core/2-ledger/PendingIndex.ts): it
    // is all that is read, except for an audience being emptied, whose listed members all leave.
    const whole: ShardSet = new Map()
    if (record.removal === "empty") {
      const { base, index } = (yield* loadParts(record.key, [n], record.audienceClass)).get(n)!
      whole.set(n, merged(base, index))
    } else {
      const indexes = yield* loadIndexes(record.key, [n], record.audienceClass)
      if (replayed.length > 0) yield* promote(record.key, indexes, replayedByShard.namedIn([n]), record.audienceClass)
      whole.set(n, indexes.get(n)!)
    }
    for (const effect of replayedByShard.forShard(n)) applyEffect(whole, layoutOf(record), effect, { inPlace: true })
    const shard = whole.get(n)!
    // An audience removed with "empty" wants nobody: every email on the list leaves it.
    const delta = record.removal === "empty"
      ? { add: [], remove: Object.keys(shard.emails).filter((e) => shard.emails[e]!.synced).sort() }
      : shardDelta(shard, record.audienceClass)
    const planned = (email: string, withFields: boolean): PlannedEmail => {
      const record = shard.emails[email]
      const fields = withFields ? plannedFields(record, leadFields) : undefined
      return {
        email: email as PlannedEmail["email"],
        ...(record?.leadIds === undefined ? {} : { leadIds: record.leadIds }),
        ...(fields === undefined ? {} : { fields })
      }
    }
    const takeAdds = add.length < limits.maxAdds ? delta.add : []
    const takeRemoves = remove.length < limits.maxRemoves ? delta.remove : []
    const takeUpdates = update.length < maxUpdates ? fieldUpdatesOf(shard) : []
    for (const e of takeAdds) add.push(planned(e, true))
    for (const e of takeRemoves) remove.push(planned(e, false))
    for (const e of takeUpdates) update.push(planned(e, true))
    slices.set(n, sliceOf(shard, [...takeAdds, ...takeRemoves, ...takeUpdates]))
  }
  const delta: AudienceDelta = {
    audience: record.key,
    listName: record.displayName ?? record.key,
    folderName,
    add,
    remove,
    ...(update.length === 0 ? {} : { update }),
    pendingImports: record.pendingImports,
    ...(record.listId === undefined ? {} : { listId: record.listId }),
    ...(record.externalListId === undefined ? {} : { externalListId: record.externalListId })
  }
  return delta
})
