// A reconcile's buckets follow the ledger's layout: as many as its shallowest shard allows, so no
// shard spans two buckets and a bucket holds about one shard's members, however far the audience
// has split. Then a reconcile of a split audience repairs drift as one of an unsplit audience does.
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option, TestClock } from "effect"
import fc from "fast-check"
import type { Email } from "../../../core/1-events/Email.js"
import type { AudienceKey, ListId } from "../../../core/1-events/Ids.js"
import { readRecord } from "../../../core/2-ledger/AudienceShards.js"
import { childrenOf, shardOf } from "../../../core/2-ledger/Sharding.js"
import { layoutOf } from "../../../core/2-ledger/ShardSplit.js"
import { bucketOf, bucketOfShard, bucketsFor } from "../../../core/5-tick/ReconcileBuckets.js"
import { getAudience } from "../../../core/5-tick/AudienceStatus.js"
import { readRun, runSteps, startReconcile, type StepOutcome } from "../../../core/5-tick/Reconcile.js"
import { MarketoApi } from "../../../core/ports/MarketoApi.js"
import { event, harness, settings } from "./TickHarness.js"

const vip = "vip" as AudienceKey

/** Every root split, then every child of a root in `deeper` split again. */
const rootsSplit = (deeper: ReadonlyArray<number> = []) => [
  ...Array.from({ length: 64 }, (_, n) => n),
  ...deeper.flatMap((n) => childrenOf(n, 64))
]

describe("ReconcileBuckets", () => {
  it("takes 2 to the depth of the shallowest shard", () => {
    expect(bucketsFor({ shardCount: 64 })).toBe(64)
    expect(bucketsFor({ shardCount: 64, splits: [3, 7] })).toBe(64)
    expect(bucketsFor({ shardCount: 64, splits: rootsSplit() })).toBe(128)
    expect(bucketsFor({ shardCount: 64, splits: rootsSplit([5]) })).toBe(128)
    expect(bucketsFor({ shardCount: 64, splits: rootsSplit(Array.from({ length: 64 }, (_, n) => n)) })).toBe(256)
  })

  it("files every email in the bucket of its shard, whatever the layout", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 5_000 }), { maxLength: 200 }), fc.array(fc.emailAddress(), { minLength: 1, maxLength: 60 }), (picks, emails) => {
        // Grow a layout by splitting leaves picked at random.
        let splits: Array<number> = []
        for (const pick of picks) {
          const layout = layoutOf({ shardCount: 64, splits })
          const leaves: Array<number> = []
          const walk = (n: number): void => {
            if (typeof layout !== "number" && layout.splits.has(n)) for (const c of childrenOf(n, 64)) walk(c)
            else leaves.push(n)
          }
          for (let n = 0; n < 64; n++) walk(n)
          splits = [...splits, leaves[pick % leaves.length]!]
        }
        const record = { shardCount: 64, splits }
        const buckets = bucketsFor(record)
        for (const email of emails) expect(bucketOf(email, buckets)).toBe(bucketOfShard(shardOf(email as Email, layoutOf(record)), buckets))
      })
    )
  })

  it.effect("a reconcile of a split audience files in more buckets, each about one shard, and the list ends right", () =>
    Effect.gen(function*() {
      const h = yield* harness({ listPageSize: 100 })
      const members = 600
      yield* h.send(Array.from({ length: members }, (_, i) => event("vip", `u${i}`, [`u${i}@example.com`], true)))
      // Folds that split every shard holding more than 3 emails: every root splits at least once.
      yield* h.tick({ ...settings, splitAtEmails: 3 })
      for (let i = 0; i < 3; i++) {
        yield* TestClock.adjust("1 minute")
        yield* h.tick({ ...settings, splitAtEmails: 3 })
      }
      yield* h.untilQuiet
      const record = Option.getOrThrow(yield* h.provide(readRecord(vip)))
      const buckets = bucketsFor(record)
      expect(buckets).toBeGreaterThanOrEqual(128)
      // Drift by hand: ten members taken off the list.
      const listId = Option.getOrThrow(yield* h.provide(getAudience(vip))).listId as ListId
      yield* h.provide(Effect.gen(function*() {
        const api = yield* MarketoApi
        const gone = yield* api.lookupLeads(Array.from({ length: 10 }, (_, i) => `u${i}@example.com` as Email))
        yield* api.removeFromList(listId, gone.flatMap((l) => l.leadIds))
      }))
      expect(yield* h.control.members("vip")).toHaveLength(members - 10)
      yield* h.provide(startReconcile(vip))
      expect(Option.getOrThrow(yield* h.provide(readRun(vip))).buckets).toBe(buckets)
      const steps: Array<StepOutcome> = []
      yield* h.provide(runSteps(vip, () => Effect.succeed(true), (o) => void steps.push(o)))
      // A shard step holds its bucket's members and one shard's records (base and index): never
      // more than the fullest bucket and twice the largest shard.
      const largest = Math.max(...Object.values(record.shards).map((c) => c.desired))
      /** The most list members one bucket holds, of `n` buckets. */
      const fullestOf = (n: number) => {
        const counts = new Map<number, number>()
        for (let i = 10; i < members; i++) counts.set(bucketOf(`u${i}@example.com`, n), (counts.get(bucketOf(`u${i}@example.com`, n)) ?? 0) + 1)
        return Math.max(...counts.values())
      }
      const fullest = fullestOf(buckets)
      const shardSteps = steps.filter((s) => s._tag === "Shard") as ReadonlyArray<{ readonly held: number }>
      expect(shardSteps.length).toBeGreaterThanOrEqual(Object.keys(record.shards).length)
      for (const step of shardSteps) expect(step.held).toBeLessThanOrEqual(fullest + 2 * largest)
      // Filed in 64 buckets, the fullest would hold more than that.
      expect(fullestOf(64)).toBeGreaterThan(fullest)
      expect(Option.getOrThrow(yield* h.provide(getAudience(vip)))).toMatchObject({ pending: { add: 10, remove: 0 } })
      yield* h.untilQuiet
      expect(yield* h.control.members("vip")).toHaveLength(members)
    }))
})
