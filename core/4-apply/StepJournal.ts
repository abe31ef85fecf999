// The per-step checkpoint of one audience's plan. After each step its effects (core/4-apply/StepEffect.ts)
// are written alone under the audience's journal and applied in memory to the slices of the
// shards the plan works on (only the emails of its delta), which is all the interpreter needs.
// At the end every effect of the tick is applied again to the whole shards it touches, a few shards
// at a time (read, apply, write), then the record is written with the next journal epoch and the
// journal is deleted. Every effect is idempotent, so a tick stopped anywhere leaves either journal
// entries of the current epoch (applied again before the next plan, whether or not some shards
// already hold them) or of an older one (already in the shards: only deleted). Memory stays at
// the delta plus a few shards, whatever the audience's size.
import { layoutOf } from "../2-ledger/ShardSplit.js"
import { shardCounts } from "../2-ledger/Ledger.js"
import { Clock, Effect, Option, Schema } from "effect"
import type { AudienceRecord, ShardCounts } from "../2-ledger/AudienceRecord.js"
import { encodeRecord, loadShards, shardsImporting } from "../2-ledger/AudienceShards.js"
import { compactedEntries, countsOfIndex, flushShouldCompact, indexEntry, loadBases, loadIndexes, merged, promote, splicedEntries } from "../2-ledger/PendingIndex.js"
import type { Email } from "../1-events/Email.js"
import { StateStore } from "../ports/StateStore.js"
import { shardOf } from "../2-ledger/Sharding.js"
import { carryEffects } from "./CarryJournal.js"
import { effectsByShard } from "./EffectsByShard.js"
import { withImportEffect } from "./ImportRecord.js"
import { applyEffect } from "./ShardEffects.js"
import type { ShardSet } from "../2-ledger/LedgerShard.js"
import { StateKeys } from "../2-ledger/StateKeys.js"
import { encodeJournal, JournalJson, type StepEffect } from "./StepEffect.js"

/** Whole shards read, changed and written together at the end of a plan. */
const flushShardsAtOnce = 2

const recordEffect = (record: AudienceRecord, effect: StepEffect): AudienceRecord => {
  switch (effect._tag) {
    case "ListEnsured":
      return { ...record, listId: effect.listId }
    case "ImportSending":
    case "ImportStarted":
    case "ImportStaged":
    case "StagedSending":
    case "StagedStarted":
    case "StagedPartsDeleted":
    case "ImportNotSent":
    case "ImportChecked":
    case "ImportEnded":
      return withImportEffect(record, effect)
    case "ListLost": {
      // A staged file goes with the list: its rows are off the list and free again.
      const { externalListId: _e, listId: _l, imports: _i, staged, ...rest } = record
      const left = staged === undefined || (record.stagedLeft ?? []).some((l) => l.ref === staged.ref)
        ? record.stagedLeft
        : [...(record.stagedLeft ?? []), { ref: staged.ref, parts: staged.parts }]
      return { ...rest, ...(left === undefined ? {} : { stagedLeft: left }), pendingImports: [], listReplaced: { previousListId: effect.listId, at: effect.at } }
    }
    default:
      return record
  }
}

const shardsTouchedBy = (record: AudienceRecord, effect: StepEffect): ReadonlyArray<number> => {
  const of = (emails: ReadonlyArray<Email>) => [...new Set(emails.map((e) => shardOf(e, layoutOf(record))))]
  switch (effect._tag) {
    case "ListEnsured":
      return []
    case "LeadIdsLearned":
      return of(effect.ids.map((i) => i.email))
    case "EmailsRefused":
      return of(effect.refused.map((r) => r.email))
    case "MembershipConfirmed":
    case "ImportSending":
    case "ImportStarted":
    case "ImportStaged":
      return of(effect.emails)
    case "FieldsSent":
      return of(effect.sent.map((s) => s.email))
    case "ImportNotSent":
    case "ImportEnded":
      return shardsImporting(record)
    case "ImportChecked":
    case "StagedSending":
    case "StagedStarted":
    case "StagedPartsDeleted":
      return []
    case "ListLost":
      return Object.keys(record.shards).map(Number)
  }
}

/**
 * Apply effects to the slices in memory (no read: an email outside them is not the plan's) and the
 * record. The slices are the sync's own (made for it by collectDelta), so they change in place: a
 * copy of every touched slice per step made an initial load of 170,000 emails by upsert quadratic.
 */
export const absorb = (record: AudienceRecord, slices: ShardSet, effects: ReadonlyArray<StepEffect>): AudienceRecord => {
  let next = record
  for (const effect of effects) {
    applyEffect(slices, layoutOf(next), effect, { inPlace: true })
    next = recordEffect(next, effect)
  }
  return next
}

export const epochOf = (record: AudienceRecord) => record.journalEpoch ?? 0

/**
 * Apply `effects` to every whole shard they touch, a few at a time, then write the record with the
 * next journal epoch: from then on the journal entries written so far are stale whether or not
 * deleting them (last) succeeds. A stop between shard writes leaves the epoch as it was, so the
 * journal is applied again: harmless, every effect being idempotent.
 *
 * Past `deadline` no further shards are started (the first few always are, so every flush moves
 * on): the effects on the shards left are carried into the next epoch's journal, written in the
 * same write as the record that moves the epoch on, and the next tick applies them like any
 * journal a stopped tick left (core/4-apply/CarryJournal.ts).
 */
export const flush = Effect.fn("StepJournal.flush")(function*(
  record: AudienceRecord,
  effects: ReadonlyArray<StepEffect>,
  journalKeys: ReadonlyArray<string>,
  /** Last touches to the record once its counts are known (before it is written). */
  finish: (record: AudienceRecord) => AudienceRecord = (r) => r,
  deadline: number = Number.POSITIVE_INFINITY
) {
  const store = yield* StateStore
  const touched = new Set<number>()
  for (const effect of effects) for (const n of shardsTouchedBy(record, effect)) touched.add(n)
  const numbers = [...touched].sort((a, b) => a - b)
  const listLost = effects.some((e) => e._tag === "ListLost")
  // Cut by shard once: each part below applies only its shards' effects.
  const split = effectsByShard(effects, layoutOf(record))
  const counts: Record<string, ShardCounts> = { ...record.shards }
  let left: ReadonlyArray<number> = []
  for (let i = 0; i < numbers.length; i += flushShardsAtOnce) {
    if (i > 0 && (yield* Clock.currentTimeMillis) >= deadline) {
      left = numbers.slice(i)
      break
    }
    // Only the shards' pending indexes are read and written (core/2-ledger/PendingIndex.ts): they
    // hold every record a plan works on, and any record an effect names that a compaction moved
    // to the base is brought back first. Just decoded for this flush: changed in place.
    const part = numbers.slice(i, i + flushShardsAtOnce)
    const indexes = yield* loadIndexes(record.key, part, record.audienceClass)
    // A list lost changes every record, those a compaction moved to the base too: the whole
    // shards are read, changed and written back compacted.
    const wholes = listLost ? yield* loadShards(record.key, part) : undefined
    if (wholes !== undefined) for (const [n, index] of indexes) indexes.set(n, merged(wholes.get(n)!, index))
    else yield* promote(record.key, indexes, split.namedIn(part), record.audienceClass)
    for (const [n, index] of indexes) {
      const one: ShardSet = new Map([[n, index]])
      for (const effect of split.forShard(n)) applyEffect(one, layoutOf(record), effect, { inPlace: true })
      indexes.set(n, one.get(n)!)
    }
    const writes: Array<readonly [string, string]> = []
    for (const [n, index] of indexes) {
      if (wholes !== undefined) {
        counts[String(n)] = shardCounts(index, record.audienceClass)
        writes.push(...compactedEntries(record.key, index, record.audienceClass))
        continue
      }
      counts[String(n)] = countsOfIndex(index, record.audienceClass)
      if (!flushShouldCompact(index)) writes.push(indexEntry(record.key, index))
      else {
        const base = (yield* loadBases(record.key, [n])).get(n)!
        writes.push(...splicedEntries(record.key, base, index, record.audienceClass))
      }
    }
    yield* store.setMany(writes)
  }
  const next = finish({ ...record, shards: counts, journalEpoch: epochOf(record) + 1 })
  const carried = left.length === 0 ? [] : carryEffects(effects, new Set(left), layoutOf(record))
  const writes = [encodeRecord(next)]
  if (carried.length > 0) writes.push([StateKeys.journal(record.key, epochOf(next), 0), encodeJournal(carried)])
  if (writes.length === 1) yield* store.set(writes[0]![0], writes[0]![1])
  else yield* store.setMany(writes)
  if (journalKeys.length > 0) yield* store.remove(journalKeys)
  if (left.length > 0) {
    yield* Effect.logInfo("flush stopped at the deadline; the rest carried over").pipe(Effect.annotateLogs({ audience: record.key, shardsLeft: left.length }))
  }
  return next
})

/**
 * The journal entries of the record's current epoch (a tick stopped before writing its shards):
 * their effects, to apply to the shards as they are read, and the record as they leave it. Writes
 * nothing. `keys` is every journal key found (older epochs included, for deletion); `nextStep`
 * the first free step number of the current epoch.
 */
export const pendingJournal = Effect.fn("StepJournal.pending")(function*(record: AudienceRecord) {
  const store = yield* StateStore
  const all = yield* store.list(StateKeys.journalPrefix(record.key))
  if (all.length === 0) return { record, keys: all, effects: [] as ReadonlyArray<StepEffect>, nextStep: 0 }
  // Entries of an older epoch were already written into the shards; they only need deleting.
  const current = StateKeys.journalEpochPrefix(record.key, epochOf(record))
  const keys = all.filter((k) => k.startsWith(current))
  const values = yield* store.getMany(keys)
  const effects: Array<StepEffect> = []
  for (const key of keys) {
    const decoded = Option.flatMap(values.get(key) ?? Option.none(), Schema.decodeUnknownOption(JournalJson))
    // Skipping an entry only makes the ledger forget a step: the next plan does it again.
    if (Option.isNone(decoded)) yield* Effect.logError("journal entry does not decode; skipped").pipe(Effect.annotateLogs({ key }))
    else effects.push(...decoded.value)
  }
  const nextStep = keys.reduce((n, k) => Math.max(n, Number(k.slice(current.length)) + 1), 0)
  let next = record
  for (const effect of effects) next = recordEffect(next, effect)
  if (keys.length > 0) {
    yield* Effect.logInfo("applying the journal of a stopped tick").pipe(Effect.annotateLogs({ audience: record.key, steps: keys.length }))
  }
  return { record: next, keys: all, effects, nextStep }
})

/** The checkpoint of one applied step: its effects alone, one small write. Returns the key. */
export const journalStep = Effect.fn("StepJournal.write")(function*(record: AudienceRecord, step: number, effects: ReadonlyArray<StepEffect>) {
  const store = yield* StateStore
  const key = StateKeys.journal(record.key, epochOf(record), step)
  yield* store.set(key, encodeJournal(effects))
  return key
})
