// The end of a reconcile: bucket by bucket, the members the pages filed are set against the
// ledger, one shard of the current layout per step (its base and pending index read, only the
// records that change moved into the index and written, with the record's counts and the run's
// position in the same write). Holds the bucket's members and one shard.
//
// Membership read on an earlier page may be stale by the time its shard is swept: a sync may have
// added or removed the email since. The record's journal epoch tells: every sync that changed the
// shards moved it. While it has not moved, what the pages read is what the list holds (no call of
// ours changed it) and is written as it is. Once it has, every record where the pages and the
// ledger disagree (read but not synced, synced but not read) is checked with Marketo at sweep time
// (`listHasLeads`, 300 leads a call) and only what Marketo confirms now is written: a record a
// sync changed after its page was read keeps what the sync wrote.
import { Clock, Effect, Schema } from "effect"
import type { AudienceKey, LeadId } from "../1-events/Ids.js"
import { type AudienceRecord, withPendingSince } from "../2-ledger/AudienceRecord.js"
import { encodeRecord } from "../2-ledger/AudienceShards.js"
import type { EmailRecord } from "../2-ledger/LedgerShard.js"
import { wholeBase } from "../2-ledger/BaseLines.js"
import { compactedEntries, countsOfIndex, flushShouldCompact, indexEntry, loadParts, merged, promoteFrom, sizeOf } from "../2-ledger/PendingIndex.js"
import { shardOf } from "../2-ledger/Sharding.js"
import { layoutOf } from "../2-ledger/ShardSplit.js"
import { StateKeys } from "../2-ledger/StateKeys.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"
import { MarketoApi } from "../ports/MarketoApi.js"
import { StateStore } from "../ports/StateStore.js"
import { bucketOfShard } from "./ReconcileBuckets.js"
import { type ReconcileRun, runEntry, SeenEntry } from "./ReconcileRun.js"

/** The members one bucket's pages filed: their lead ids by email, and the keys they were filed under. */
export interface Bucket {
  readonly run: string
  readonly bucket: number
  readonly seen: ReadonlyMap<string, ReadonlyArray<LeadId>>
  readonly keys: ReadonlyArray<string>
}

export const loadBucket = Effect.fn("Reconcile.loadBucket")(function*(key: AudienceKey, run: ReconcileRun) {
  const store = yield* StateStore
  const keys = yield* store.list(StateKeys.reconcileBucketPrefix(key, run.run, run.bucket))
  const seen = new Map<string, Array<LeadId>>()
  for (let i = 0; i < keys.length; i += 500) {
    const values = yield* store.getMany(keys.slice(i, i + 500))
    for (const value of values.values()) {
      if (value._tag === "None") continue
      for (const [email, id] of Schema.decodeSync(SeenEntry)(value.value)) {
        const ids = seen.get(email)
        if (ids === undefined) seen.set(email, [id as LeadId])
        else if (!ids.includes(id as LeadId)) ids.push(id as LeadId)
      }
    }
  }
  return { run: run.run, bucket: run.bucket, seen, keys } satisfies Bucket
})

/** The bucket's shards still to sweep: those the record counts and those of the emails read, less those done. */
export const shardsLeft = (record: AudienceRecord, run: ReconcileRun, bucket: Bucket): ReadonlyArray<number> => {
  const shards = new Set(Object.keys(record.shards).map(Number).filter((n) => bucketOfShard(n, run.buckets) === run.bucket))
  const layout = layoutOf(record)
  for (const email of bucket.seen.keys()) shards.add(shardOf(email as never, layout))
  for (const n of run.shardsDone) shards.delete(n)
  return [...shards].sort((a, b) => a - b)
}

/**
 * The first bucket from the run's on that holds a shard of the record or members the pages filed
 * (`buckets` when none is left): empty buckets cost no step.
 */
export const nextBucket = (record: AudienceRecord, run: ReconcileRun): number => {
  const used = new Set(run.filed)
  for (const n of Object.keys(record.shards)) used.add(bucketOfShard(Number(n), run.buckets))
  let bucket = run.bucket
  while (bucket < run.buckets && !used.has(bucket)) bucket++
  return bucket
}

/** Which of these leads are on the list now: `listHasLeads`, 300 a call. */
const onListNow = Effect.fn("Reconcile.onListNow")(function*(listId: ReconcileRun["listId"], leadIds: ReadonlyArray<LeadId>) {
  const api = yield* MarketoApi
  const present = new Set<LeadId>()
  let calls = 0
  for (let i = 0; i < leadIds.length; i += MarketoLimits.batchSize) {
    for (const id of yield* api.listHasLeads(listId, leadIds.slice(i, i + MarketoLimits.batchSize))) present.add(id)
    calls++
  }
  return { present, calls }
})

export const sweepShard = Effect.fn("Reconcile.sweepShard")(function*(key: AudienceKey, record: AudienceRecord, run: ReconcileRun, bucket: Bucket, shard: number) {
  const store = yield* StateStore
  const { base: stored, index } = (yield* loadParts(key, [shard], record.audienceClass)).get(shard)!
  // The sweep visits every record of the shard: its base is parsed whole.
  const base = stored.whole()
  const layout = layoutOf(record)
  const stale = (record.journalEpoch ?? 0) !== run.epoch
  const recordOf = (email: string): EmailRecord | undefined => index.emails[email] ?? base.emails[email]
  const changed = new Map<string, EmailRecord>()
  let missing = 0
  let unexpected = 0
  const present = (email: string, rec: EmailRecord, ids: ReadonlyArray<LeadId>) => {
    changed.set(email, { ...rec, synced: true, leadIds: ids })
    if (rec.importing === undefined) unexpected++
  }
  const absent = (email: string, rec: EmailRecord) => {
    changed.set(email, { ...rec, synced: false })
    missing++
  }
  const readButNotSynced: Array<readonly [string, EmailRecord, ReadonlyArray<LeadId>]> = []
  const syncedButNotRead: Array<readonly [string, EmailRecord]> = []
  const visit = (email: string, rec: EmailRecord) => {
    const ids = bucket.seen.get(email)
    if (ids !== undefined) {
      if (!rec.synced) {
        if (stale) readButNotSynced.push([email, rec, ids])
        else present(email, rec, ids)
      } else if (rec.leadIds === undefined) changed.set(email, { ...rec, leadIds: ids })
    } else if (rec.synced) {
      // Without a lead id there is nothing to ask Marketo: the next tick adds it again, harmlessly.
      if (stale && (rec.leadIds?.length ?? 0) > 0) syncedButNotRead.push([email, rec])
      else absent(email, rec)
    }
  }
  for (const email of Object.keys(index.emails)) visit(email, index.emails[email]!)
  for (const email of Object.keys(base.emails)) if (index.emails[email] === undefined) visit(email, base.emails[email]!)
  // Members the ledger does not know: recorded with no holder, so the next tick removes them. No
  // sync removes an email the ledger does not know, so what the page read still holds.
  for (const [email, ids] of bucket.seen) {
    if (shardOf(email as never, layout) !== shard || recordOf(email) !== undefined) continue
    changed.set(email, { holders: [], synced: true, leadIds: ids })
    unexpected++
  }
  const asked = [...readButNotSynced.flatMap(([, , ids]) => ids), ...syncedButNotRead.flatMap(([, rec]) => rec.leadIds!)]
  const check = asked.length === 0 ? { present: new Set<LeadId>(), calls: 0 } : yield* onListNow(run.listId, asked)
  for (const [email, rec, ids] of readButNotSynced) if (ids.some((id) => check.present.has(id))) present(email, rec, ids)
  for (const [email, rec] of syncedButNotRead) if (!rec.leadIds!.some((id) => check.present.has(id))) absent(email, rec)

  const writes: Array<readonly [string, string]> = []
  if (changed.size > 0) {
    const known = wholeBase(base)
    const fresh = [...changed.keys()].filter((email) => recordOf(email) === undefined).length
    const size = sizeOf(known, index) + fresh
    promoteFrom(known, index, [...changed.keys()], record.audienceClass)
    const emails = index.emails as Record<string, EmailRecord>
    for (const [email, rec] of changed) emails[email] = rec
    const own = index as { size?: number }
    own.size = size
    const counts = countsOfIndex(index, record.audienceClass)
    writes.push(...(flushShouldCompact(index) ? compactedEntries(key, merged(base, index), record.audienceClass) : [indexEntry(key, index)]))
    const next = withPendingSince({ ...record, shards: { ...record.shards, [String(shard)]: counts } }, yield* Clock.currentTimeMillis)
    writes.push(encodeRecord(next))
  }
  const after: ReconcileRun = {
    ...run,
    shardsDone: [...run.shardsDone, shard],
    calls: run.calls + check.calls,
    missing: run.missing + missing,
    unexpected: run.unexpected + unexpected
  }
  yield* store.setMany([...writes, runEntry(key, after)])
  return { run: after, held: bucket.seen.size + Object.keys(base.emails).length + Object.keys(index.emails).length, calls: check.calls }
})

/** A bucket whose shards are all swept: its members' keys go, then the run moves to the next bucket. */
export const closeBucket = Effect.fn("Reconcile.closeBucket")(function*(key: AudienceKey, run: ReconcileRun, bucket: Bucket) {
  const store = yield* StateStore
  for (let i = 0; i < bucket.keys.length; i += 1_000) yield* store.remove(bucket.keys.slice(i, i + 1_000))
  const next: ReconcileRun = { ...run, bucket: run.bucket + 1, shardsDone: [] }
  yield* store.set(...runEntry(key, next))
  return next
})
