// A flush the deadline stops writes the shards it reached and carries the effects on the others
// into the next epoch's journal: applying that journal later gives exactly the shards and counts
// of a flush that was never stopped.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Option, TestClock } from "effect"
import fc from "fast-check"
import type { Email } from "../../../core/1-events/Email.js"
import type { AudienceKey, ImportBatchId, LeadId } from "../../../core/1-events/Ids.js"
import type { AudienceRecord } from "../../../core/2-ledger/AudienceRecord.js"
import { newRecord } from "../../../core/2-ledger/AudienceShards.js"
import { isBaseLines, readBaseLines } from "../../../core/2-ledger/BaseLines.js"
import { compactedEntries } from "../../../core/2-ledger/PendingIndex.js"
import type { EmailRecord } from "../../../core/2-ledger/LedgerShard.js"
import { shardOf } from "../../../core/2-ledger/Sharding.js"
import { StateKeys } from "../../../core/2-ledger/StateKeys.js"
import { carryEffects } from "../../../core/4-apply/CarryJournal.js"
import type { StepEffect } from "../../../core/4-apply/StepEffect.js"
import { absorb, flush, pendingJournal } from "../../../core/4-apply/StepJournal.js"
import { StateStore, type StateStoreService } from "../../../core/ports/StateStore.js"
import { makeStateStoreMemory } from "../../../core/ports/StateStoreMemory.js"

const key = "vip" as AudienceKey
const emails = Array.from({ length: 40 }, (_, i) => `e${i}@example.com` as Email)

const seeded = Effect.gen(function*() {
  const store = yield* makeStateStoreMemory()
  const record: AudienceRecord = newRecord(key, "audience")
  const byShard = new Map<number, Record<string, EmailRecord>>()
  for (const e of emails) {
    const n = shardOf(e, record.shardCount)
    const records = byShard.get(n) ?? {}
    records[e] = { holders: [{ user: e, member: true, timestamp: 1, messageId: "m" }], synced: false }
    byShard.set(n, records)
  }
  // Each shard as a fold leaves it: its base, and its pending index (every record here is pending).
  yield* store.setMany([...byShard].flatMap(([n, records]) => compactedEntries(key, { audience: key, shard: n, emails: records }, "audience")))
  return { store, record }
})

/** Every shard read takes a second of test time. */
const slow = (s: StateStoreService): StateStoreService => ({
  ...s,
  getMany: (keys) => Effect.zipRight(Effect.sleep("1 second"), s.getMany(keys))
})

const shardsOf = (store: StateStoreService) =>
  Effect.gen(function*() {
    const keys = yield* store.list(StateKeys.shard(key, 0).slice(0, -4))
    const values = yield* store.getMany(keys)
    const decoded = (v: string): unknown => isBaseLines(v) ? readBaseLines(v).whole() : JSON.parse(v)
    return new Map([...values].map(([k, v]) => [k, decoded(Option.getOrThrow(v))]))
  })

const effectsArb = fc.array(
  fc.oneof(
    fc.record({ picks: fc.uniqueArray(fc.integer({ min: 0, max: 39 }), { minLength: 1 }), synced: fc.boolean() })
      .map(({ picks, synced }): StepEffect => ({ _tag: "MembershipConfirmed", emails: picks.map((i) => emails[i]!), synced })),
    fc.uniqueArray(fc.integer({ min: 0, max: 39 }), { minLength: 1 })
      .map((picks): StepEffect => ({ _tag: "LeadIdsLearned", ids: picks.map((i) => ({ email: emails[i]!, leadIds: [i + 1 as LeadId] })) })),
    fc.uniqueArray(fc.integer({ min: 0, max: 39 }), { minLength: 1 })
      .map((picks): StepEffect => ({ _tag: "EmailsRefused", refused: picks.map((i) => ({ email: emails[i]!, code: "1003" })) })),
    fc.uniqueArray(fc.integer({ min: 0, max: 39 }), { minLength: 1 })
      .map((picks): StepEffect => ({ _tag: "ImportStarted", batchIds: [7 as ImportBatchId], emails: picks.map((i) => emails[i]!) })),
    fc.constant<StepEffect>({ _tag: "ImportEnded", batchId: 7 as ImportBatchId, status: "Complete", failed: [{ email: emails[3]!, code: "1004" }] })
  ),
  { minLength: 1, maxLength: 6 }
).map((effects) => {
  // As a plan makes them: a batch is started once, and can end only after it started.
  let started = false
  return effects.filter((e) => {
    if (e._tag === "ImportStarted") return started ? false : (started = true)
    return e._tag !== "ImportEnded" || started
  })
}).filter((effects) => effects.length > 0)

describe("StepJournal: a flush stopped by the deadline", () => {
  it.effect.prop("carries exactly the effects on the shards left; applied later they give the shards of an unstopped flush", [effectsArb, fc.integer({ min: 0, max: 20 })], ([effects, pairs]) =>
    Effect.gen(function*() {
      const whole = yield* seeded
      // As the sync hands it over: the record with the tick's effects on it (list, imports).
      const absorbed = absorb(whole.record, new Map(), effects)
      const full = yield* flush(absorbed, effects, []).pipe(Effect.provideService(StateStore, whole.store))
      const expected = yield* shardsOf(whole.store)

      const stopped = yield* seeded
      const store = slow(stopped.store)
      // Each pair's read takes a second: the deadline falls inside the read of pair `pairs`.
      const fiber = yield* Effect.fork(flush(absorbed, effects, [], (r) => r, pairs * 1_000 + 500).pipe(Effect.provideService(StateStore, store)))
      while (Option.isNone(yield* Fiber.poll(fiber))) yield* TestClock.adjust("250 millis")
      const first = yield* Fiber.join(fiber)
      const journal = yield* stopped.store.list(StateKeys.journalPrefix(key))
      const touched = new Set(effects.flatMap((e) => "emails" in e ? e.emails : e._tag === "LeadIdsLearned" ? e.ids.map((i) => i.email) : e._tag === "EmailsRefused" ? e.refused.map((r) => r.email) : []).map((e) => shardOf(e, 64)))
      // The first pair always goes; pair j starts at j seconds, so pairs 0 to `pairs` start before it.
      const reached = (pairs + 1) * 2
      expect(journal.length).toBe(touched.size > reached ? 1 : 0)
      // The epoch moved on, and the carried entry is of the new epoch: replayed, not thrown away.
      expect(first.journalEpoch).toBe(1)
      const pending = yield* pendingJournal(first).pipe(Effect.provideService(StateStore, stopped.store))
      expect(pending.keys).toEqual(journal)
      const numbers = [...touched].sort((a, b) => a - b)
      expect(pending.effects).toEqual(numbers.length > reached ? carryEffects(effects, new Set(numbers.slice(reached)), 64) : [])
      const second = yield* flush(pending.record, pending.effects, pending.keys).pipe(Effect.provideService(StateStore, stopped.store))
      expect(yield* shardsOf(stopped.store)).toEqual(expected)
      expect(second.shards).toEqual(full.shards)
      expect(second.pendingImports).toEqual(full.pendingImports)
      expect(yield* stopped.store.list(StateKeys.journalPrefix(key))).toEqual([])
    }), { fastCheck: { numRuns: 40 } })
})
