// The per-step checkpoint of one audience's plan. After each step its effects (core/StepEffect.ts)
// are written alone under the audience's journal and applied to the shards in memory; at the end
// the shards and the record are written at once, moving the record's journal epoch on, and the
// journal is deleted. A tick stopped anywhere leaves either journal entries of the current epoch
// (replayed onto the shards before the next plan) or of an older one (already in the shards:
// only deleted). Replaying is idempotent, so a crash during replay is harmless too.
import { Effect, Option, Schema } from "effect"
import type { AudienceRecord } from "./AudienceRecord.js"
import { encodeRecord, encodeShard, loadShards, shardsImporting, withShardCounts } from "./AudienceShards.js"
import type { Email } from "./Email.js"
import { StateStore } from "./ports/StateStore.js"
import { shardOf } from "./Sharding.js"
import { applyEffect, type ShardSet } from "./ShardEffects.js"
import { StateKeys } from "./StateKeys.js"
import { JournalJson, type StepEffect } from "./StepEffect.js"

const recordEffect = (record: AudienceRecord, effect: StepEffect): AudienceRecord => {
  switch (effect._tag) {
    case "ListEnsured":
      return { ...record, listId: effect.listId }
    case "ImportStarted":
      return { ...record, pendingImports: [...record.pendingImports, ...effect.batchIds] }
    case "ImportEnded":
      return { ...record, pendingImports: record.pendingImports.filter((id) => id !== effect.batchId) }
    default:
      return record
  }
}

const shardsTouchedBy = (record: AudienceRecord, effect: StepEffect): ReadonlyArray<number> => {
  const of = (emails: ReadonlyArray<Email>) => [...new Set(emails.map((e) => shardOf(e, record.shardCount)))]
  switch (effect._tag) {
    case "ListEnsured":
      return []
    case "LeadIdsLearned":
      return of(effect.ids.map((i) => i.email))
    case "EmailsRefused":
      return of(effect.refused.map((r) => r.email))
    case "MembershipConfirmed":
    case "ImportStarted":
      return of(effect.emails)
    case "ImportEnded":
      return shardsImporting(record)
  }
}

/** Apply effects to the working shards (loading any not yet loaded) and to the record. */
export const absorb = Effect.fn("StepJournal.absorb")(function*(record: AudienceRecord, shards: ShardSet, effects: ReadonlyArray<StepEffect>) {
  let next = record
  for (const effect of effects) {
    const missing = shardsTouchedBy(next, effect).filter((n) => !shards.has(n))
    if (missing.length > 0) for (const [n, s] of yield* loadShards(next.key, missing)) shards.set(n, s)
    applyEffect(shards, next.shardCount, effect)
    next = recordEffect(next, effect)
  }
  return next
})

export const epochOf = (record: AudienceRecord) => record.journalEpoch ?? 0

/**
 * Write the shards and the record with the next journal epoch, in one atomic write: from then on
 * the journal entries written so far are stale whether or not deleting them (next) succeeds.
 */
export const flush = Effect.fn("StepJournal.flush")(function*(
  record: AudienceRecord,
  shards: ShardSet,
  journalKeys: ReadonlyArray<string>,
  asRead: ShardSet = new Map()
) {
  const store = yield* StateStore
  const next = { ...withShardCounts(record, shards), journalEpoch: epochOf(record) + 1 }
  // Shards read for the delta but left as they were (a plan stopped early) need no write.
  const changed = [...shards.values()].filter((s) => asRead.get(s.shard) !== s)
  yield* store.setMany([...changed.map((s) => encodeShard(record.key, s)), encodeRecord(next)])
  if (journalKeys.length > 0) yield* store.remove(journalKeys)
  return next
})

/**
 * Apply the journal entries of the record's current epoch (a tick stopped before writing its
 * shards) to `shards`, loading what they touch. Writes nothing. Returns the record as the entries
 * leave it, and every journal key found (older epochs included, for deletion).
 */
export const pendingJournal = Effect.fn("StepJournal.pending")(function*(record: AudienceRecord, shards: ShardSet) {
  const store = yield* StateStore
  const all = yield* store.list(StateKeys.journalPrefix(record.key))
  if (all.length === 0) return { record, keys: all, steps: 0 }
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
  return { record: yield* absorb(record, shards, effects), keys: all, steps: keys.length }
})

/** A journal left by a stopped tick: fold its effects into the shards before anything else. */
export const replayJournal = Effect.fn("StepJournal.replay")(function*(record: AudienceRecord) {
  const shards: ShardSet = new Map()
  const pending = yield* pendingJournal(record, shards)
  if (pending.keys.length === 0) return record
  yield* Effect.logInfo("replayed the journal of a stopped tick").pipe(
    Effect.annotateLogs({ audience: record.key, steps: pending.steps })
  )
  return yield* flush(pending.record, shards, pending.keys)
})

/** The checkpoint of one applied step: its effects alone, one small write. Returns the key. */
export const journalStep = Effect.fn("StepJournal.write")(function*(record: AudienceRecord, step: number, effects: ReadonlyArray<StepEffect>) {
  const store = yield* StateStore
  const key = StateKeys.journal(record.key, epochOf(record), step)
  yield* store.set(key, Schema.encodeSync(JournalJson)(effects))
  return key
})
