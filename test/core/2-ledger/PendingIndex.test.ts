// A shard kept as a base and a pending index says exactly what the whole shard would: whatever
// folds, flushed step effects, compactions and indexes missing (a store written before them),
// the base with the index over it equals the whole-shard model, the record's counts are the
// model's, and the delta read from the index alone is the model's delta.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import fc from "fast-check"
import type { Email } from "../../../core/1-events/Email.js"
import type { AudienceKey, ImportBatchId, LeadId } from "../../../core/1-events/Ids.js"
import type { MembershipEvent } from "../../../core/1-events/MembershipChange.js"
import { fanOut } from "../../../core/1-events/MembershipChange.js"
import { readRecord } from "../../../core/2-ledger/AudienceShards.js"
import { emptyShard, foldShard, shardCounts, shardDelta } from "../../../core/2-ledger/Ledger.js"
import type { LedgerShard, ShardSet } from "../../../core/2-ledger/LedgerShard.js"
import { decodeFilter, mayHold } from "../../../core/2-ledger/BaseFilter.js"
import { readBaseLines } from "../../../core/2-ledger/BaseLines.js"
import { compactedEntries, loadIndexes, loadParts, merged } from "../../../core/2-ledger/PendingIndex.js"
import { shardOf } from "../../../core/2-ledger/Sharding.js"
import { StateKeys } from "../../../core/2-ledger/StateKeys.js"
import { applyEffect } from "../../../core/4-apply/ShardEffects.js"
import type { StepEffect } from "../../../core/4-apply/StepEffect.js"
import { absorb, flush } from "../../../core/4-apply/StepJournal.js"
import { foldAudience } from "../../../core/5-tick/FoldAudience.js"
import { StateStore, type StateStoreService } from "../../../core/ports/StateStore.js"
import { makeStateStoreMemory } from "../../../core/ports/StateStoreMemory.js"

const key = "vip" as AudienceKey
/** The store, noting in `reads` every key a batch read asks for. */
const noting = (store: StateStoreService, reads: Array<string>): StateStoreService => ({
  ...store,
  getMany: (keys) => Effect.zipRight(Effect.sync(() => reads.push(...keys)), store.getMany(keys))
})
const emails = Array.from({ length: 10 }, (_, i) => `p${i}@example.com` as Email)
const shards = [...new Set(emails.map((e) => shardOf(e, 64)))]
const pick = fc.integer({ min: 0, max: emails.length - 1 })

type Op =
  | { readonly _tag: "fold"; readonly events: ReadonlyArray<{ user: number; email: number; member: boolean; time: number }> }
  | { readonly _tag: "effects"; readonly effects: ReadonlyArray<StepEffect> }
  | { readonly _tag: "compact"; readonly shard: number }
  | { readonly _tag: "dropIndex"; readonly shard: number }

const effect: fc.Arbitrary<StepEffect> = fc.oneof(
  fc.record({ picks: fc.uniqueArray(pick, { minLength: 1, maxLength: 4 }), synced: fc.boolean() })
    .map(({ picks, synced }): StepEffect => ({ _tag: "MembershipConfirmed", emails: picks.map((i) => emails[i]!), synced })),
  fc.uniqueArray(pick, { minLength: 1, maxLength: 3 })
    .map((picks): StepEffect => ({ _tag: "LeadIdsLearned", ids: picks.map((i) => ({ email: emails[i]!, leadIds: [(i + 1) as LeadId] })) })),
  fc.uniqueArray(pick, { minLength: 1, maxLength: 2 })
    .map((picks): StepEffect => ({ _tag: "EmailsRefused", refused: picks.map((i) => ({ email: emails[i]!, code: "1003" })) })),
  fc.record({ picks: fc.uniqueArray(pick, { minLength: 1, maxLength: 4 }), batch: fc.integer({ min: 1, max: 3 }) })
    .map(({ batch, picks }): StepEffect => ({ _tag: "ImportStarted", batchIds: [batch as ImportBatchId], emails: picks.map((i) => emails[i]!) })),
  fc.record({ batch: fc.integer({ min: 1, max: 3 }), failed: fc.option(pick, { nil: undefined }), ok: fc.boolean() })
    .map(({ batch, failed, ok }): StepEffect => ({
      _tag: "ImportEnded",
      batchId: batch as ImportBatchId,
      status: ok ? "Complete" : "Failed",
      failed: failed === undefined ? [] : [{ email: emails[failed]!, code: "1004" }]
    }))
)

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.array(fc.record({ user: fc.integer({ min: 0, max: 3 }), email: pick, member: fc.boolean(), time: fc.integer({ min: 0, max: 20 }) }), { minLength: 1, maxLength: 8 }).map((events): Op => ({ _tag: "fold", events })) },
  { weight: 3, arbitrary: fc.array(effect, { minLength: 1, maxLength: 4 }).map((effects): Op => ({ _tag: "effects", effects })) },
  { weight: 1, arbitrary: fc.constantFrom(...shards).map((shard): Op => ({ _tag: "compact", shard })) },
  { weight: 1, arbitrary: fc.constantFrom(...shards).map((shard): Op => ({ _tag: "dropIndex", shard })) }
)

describe("PendingIndex: a shard as its base and its pending index", () => {
  it.effect.prop("says what the whole shard says, counts included, and gives the whole shard's delta from the index alone", [fc.array(op, { minLength: 1, maxLength: 14 })], ([ops]) =>
    Effect.gen(function*() {
      const store = yield* StateStore
      const model: ShardSet = new Map()
      let message = 0
      for (const o of ops) {
        if (o._tag === "fold") {
          const events: Array<MembershipEvent> = o.events.map((e) => ({
            audience: key,
            audienceClass: "audience",
            user: `u${e.user}`,
            member: e.member,
            timestamp: e.time,
            messageId: `m${String(++message).padStart(4, "0")}`,
            emails: [emails[e.email]!]
          }))
          yield* foldAudience(key, events, 0)
          for (const change of events.flatMap(fanOut)) {
            const n = shardOf(change.email, 64)
            model.set(n, foldShard(model.get(n) ?? emptyShard(key, n), [change]))
          }
        } else if (o._tag === "effects") {
          const record = yield* readRecord(key)
          if (Option.isNone(record)) continue
          yield* flush(absorb(record.value, new Map(), o.effects), o.effects, [])
          for (const e of o.effects) applyEffect(model, 64, e)
        } else {
          const { base, index } = (yield* loadParts(key, [o.shard], "audience")).get(o.shard)!
          const whole = merged(base, index)
          if (o._tag === "compact") yield* store.setMany(compactedEntries(key, whole, "audience"))
          else {
            // As a store written before pending indexes: the whole shard as its base, no index, no filter.
            yield* store.setMany([[StateKeys.shard(key, o.shard), JSON.stringify({ audience: key, shard: o.shard, emails: whole.emails })]])
            yield* store.remove([StateKeys.shardPending(key, o.shard), StateKeys.shardFilter(key, o.shard)])
          }
        }
        const record = yield* readRecord(key)
        if (Option.isNone(record)) continue
        for (const n of shards) {
          const expected: LedgerShard = model.get(n) ?? emptyShard(key, n)
          const { base, index } = (yield* loadParts(key, [n], "audience")).get(n)!
          // A base's filter, where it has one, holds every email of the base (the fold trusts it).
          const filter = Option.flatMap(yield* store.get(StateKeys.shardFilter(key, n)), (t) => Option.fromNullable(decodeFilter(t)))
          if (Option.isSome(filter)) for (const e of Object.keys(base.whole().emails)) expect(mayHold(filter.value, e)).toBe(true)
          expect(merged(base, index).emails).toEqual(expected.emails)
          const counts = record.value.shards[String(n)]
          if (counts !== undefined) expect(counts).toEqual(shardCounts(expected, "audience"))
          const fromIndex = (yield* loadIndexes(key, [n], "audience")).get(n)!
          expect(shardDelta(fromIndex, "audience")).toEqual(shardDelta(expected, "audience"))
        }
      }
    }).pipe(Effect.provideServiceEffect(StateStore, makeStateStoreMemory())), { fastCheck: { numRuns: 300 } })
})

describe("PendingIndex: compaction", () => {
  it.effect("a fold merges an index of many settled records into the base, and a flush reads and writes only the index", () =>
    Effect.gen(function*() {
      const store = yield* StateStore
      const inShard = Array.from({ length: 40_000 }, (_, i) => `c${i}@example.com` as Email).filter((e) => shardOf(e, 64) === 5).slice(0, 300)
      expect(inShard).toHaveLength(300)
      const enter = (e: Email, i: number, member = true): MembershipEvent => ({
        audience: key, audienceClass: "audience", user: `u${i}`, member, timestamp: 1 + (member ? 0 : 1), messageId: `m${i}`, emails: [e]
      })
      yield* foldAudience(key, inShard.map((e, i) => enter(e, i)), 0)
      const index = () => Effect.map(store.get(StateKeys.shardPending(key, 5)), (v) => Object.keys(JSON.parse(Option.getOrThrow(v)).emails).length)
      const base = () => Effect.map(store.get(StateKeys.shard(key, 5)), (v) => Option.isNone(v) ? 0 : readBaseLines(v.value).size)
      expect(yield* index()).toBe(300)
      expect(yield* base()).toBe(0)
      // All on the list: the flush writes the index only (300 settled is under its own floor).
      const reads: Array<string> = []
      const confirmed: StepEffect = { _tag: "MembershipConfirmed", emails: inShard, synced: true }
      const record = Option.getOrThrow(yield* readRecord(key))
      yield* flush(record, [confirmed], []).pipe(Effect.provideService(StateStore, noting(store, reads)))
      expect(reads).toEqual([StateKeys.shardPending(key, 5)])
      expect(yield* base()).toBe(0)
      // The next fold holds the base anyway: with 300 settled records in its index, it merges them.
      yield* foldAudience(key, [enter(inShard[0]!, 0, false)], 0)
      expect(yield* base()).toBe(300)
      expect(yield* index()).toBe(1) // the one member who left, still on the list: to remove
      const after = Option.getOrThrow(yield* readRecord(key))
      expect(after.shards["5"]).toMatchObject({ desired: 299, synced: 300, pendingRemove: 1, pendingAdd: 0 })
    }).pipe(Effect.provideServiceEffect(StateStore, makeStateStoreMemory())))
})

describe("PendingIndex: a load's confirmed import", () => {
  it.effect("a flush merges the index once its settled records pass an eighth of the shard, and writes only the index before", () =>
    Effect.gen(function*() {
      const store = yield* StateStore
      // A shard of 9,600 members on the list (its base), then a load of 1,400 more: 11,000 in all,
      // so an eighth is 1,375 settled records.
      const inShard: Array<Email> = []
      for (let i = 0; inShard.length < 11_000; i++) {
        const e = `l${i}@example.com` as Email
        if (shardOf(e, 64) === 5) inShard.push(e)
      }
      const onList = inShard.slice(0, 9_600)
      const loaded = inShard.slice(9_600)
      const holder = (i: number) => ({ user: `u${i}`, member: true, timestamp: 1, messageId: `m${i}` })
      yield* store.setMany(compactedEntries(key, { audience: key, shard: 5, emails: Object.fromEntries(onList.map((e, i) => [e, { holders: [holder(i)], synced: true }])) }, "audience"))
      yield* foldAudience(key, loaded.map((e, i): MembershipEvent => ({ audience: key, audienceClass: "audience", ...holder(9_600 + i), emails: [e] })), 0)
      const base = () => Effect.map(store.get(StateKeys.shard(key, 5)), (v) => readBaseLines(Option.getOrThrow(v)).size)
      const index = () => Effect.map(store.get(StateKeys.shardPending(key, 5)), (v) => Object.keys(JSON.parse(Option.getOrThrow(v)).emails).length)
      const reads: Array<string> = []
      const counting = noting(store, reads)
      const confirm = (emails: ReadonlyArray<Email>) =>
        Effect.flatMap(readRecord(key), (record) => flush(Option.getOrThrow(record), [{ _tag: "MembershipConfirmed", emails, synced: true }], []))
          .pipe(Effect.provideService(StateStore, counting))
      // The import's first 1,300 rows confirmed: under an eighth, the index alone is read and written.
      yield* confirm(loaded.slice(0, 1_300))
      expect(reads).toEqual([StateKeys.shardPending(key, 5)])
      expect(yield* base()).toBe(9_600)
      expect(yield* index()).toBe(1_400)
      // The last 100: 1,400 settled, past an eighth of 11,000. The base takes them; the index is empty.
      yield* confirm(loaded.slice(1_300))
      expect(reads).toContain(StateKeys.shard(key, 5))
      expect(yield* base()).toBe(11_000)
      expect(yield* index()).toBe(0)
      expect(Option.getOrThrow(yield* readRecord(key)).shards["5"]).toMatchObject({ desired: 11_000, synced: 11_000, pendingAdd: 0 })
    }).pipe(Effect.provideServiceEffect(StateStore, makeStateStoreMemory())))
})

describe("PendingIndex: the fold and the base's filter", () => {
  const isBase = (k: string) => /\/shard\/\d{4}$/.test(k)
  const event = (user: string, e: Email, member: boolean, time: number): MembershipEvent => ({
    audience: key, audienceClass: "audience", user, member, timestamp: time, messageId: `m-${user}-${time}`, emails: [e]
  })

  it.effect("a fold of new members reads only the bases their filters cannot rule out; one of a member leaving reads its base", () =>
    Effect.gen(function*() {
      const store = yield* StateStore
      const old = Array.from({ length: 3_000 }, (_, i) => `old${i}@example.com` as Email)
      yield* foldAudience(key, old.map((e, i) => event(`o${i}`, e, true, 1)), 0)
      // Every shard compacted: bases with their filters, as the syncs leave them in time.
      const all = Object.keys(Option.getOrThrow(yield* readRecord(key)).shards).map(Number)
      for (const [, { base, index }] of yield* loadParts(key, all, "audience")) yield* store.setMany(compactedEntries(key, merged(base, index), "audience"))
      const read: Array<string> = []
      const counting = noting(store, read)

      const fresh = Array.from({ length: 500 }, (_, i) => `new${i}@example.com` as Email)
      // What the filters say, asked directly: the shards where one of the new emails may be held.
      const maybe = new Set<number>()
      for (const e of fresh) {
        const n = shardOf(e, 64)
        const filter = decodeFilter(Option.getOrThrow(yield* store.get(StateKeys.shardFilter(key, n))))!
        if (mayHold(filter, e)) maybe.add(n)
      }
      yield* foldAudience(key, fresh.map((e, i) => event(`n${i}`, e, true, 2)), 0).pipe(Effect.provideService(StateStore, counting))
      expect(new Set(read.filter(isBase))).toEqual(new Set([...maybe].map((n) => StateKeys.shard(key, n))))
      expect(maybe.size).toBeLessThan(3)
      const after = Option.getOrThrow(yield* readRecord(key))
      expect(Object.values(after.shards).reduce((s, c) => s + c.desired, 0)).toBe(3_500)

      // A member leaving: its base is read at once with its index, and its record found there.
      read.length = 0
      yield* foldAudience(key, [event("o7", old[7]!, false, 3)], 0).pipe(Effect.provideService(StateStore, counting))
      expect(read.filter(isBase)).toEqual([StateKeys.shard(key, shardOf(old[7]!, 64))])
      const left = (yield* loadIndexes(key, [shardOf(old[7]!, 64)], "audience")).get(shardOf(old[7]!, 64))!
      expect(left.emails[old[7]!]?.holders).toEqual([{ user: "o7", member: false, timestamp: 3, messageId: "m-o7-3" }])
    }).pipe(Effect.provideServiceEffect(StateStore, makeStateStoreMemory())))

  it.effect("a second person entering with an email the base holds keeps the first one's word: the filter sends the fold to the base", () =>
    Effect.gen(function*() {
      const store = yield* StateStore
      const shared = "shared@example.com" as Email
      yield* foldAudience(key, [event("a", shared, true, 1)], 0)
      const n = shardOf(shared, 64)
      const { base, index } = (yield* loadParts(key, [n], "audience")).get(n)!
      // On the list by now, and compacted: the email is only in the base, its index holds nothing.
      const whole = merged(base, index)
      yield* store.setMany(compactedEntries(key, { ...whole, emails: { [shared]: { ...whole.emails[shared]!, synced: true } } }, "audience"))
      expect(Object.keys((yield* loadIndexes(key, [n], "audience")).get(n)!.emails)).toEqual([])
      yield* foldAudience(key, [event("b", shared, true, 2)], 0)
      yield* foldAudience(key, [event("a", shared, false, 3)], 0)
      // b still holds it: the email stays wanted.
      const record = (yield* loadIndexes(key, [n], "audience")).get(n)!.emails[shared]!
      expect(record.holders.map((h) => [h.user, h.member])).toEqual([["a", false], ["b", true]])
      expect(Option.getOrThrow(yield* readRecord(key)).shards[String(n)]).toMatchObject({ desired: 1 })
    }).pipe(Effect.provideServiceEffect(StateStore, makeStateStoreMemory())))
})
