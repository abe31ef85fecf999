// Step effects applied to shards the caller owns (in place, as a flush does) give exactly the
// shards the copying form gives, and the copying form never changes the shards it was given.
import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import type { Email } from "../../../core/1-events/Email.js"
import type { AudienceKey, ImportBatchId, LeadId } from "../../../core/1-events/Ids.js"
import { emptyShard, foldShard } from "../../../core/2-ledger/Ledger.js"
import type { LedgerShard } from "../../../core/2-ledger/LedgerShard.js"
import { MembershipChange } from "../../../core/1-events/MembershipChange.js"
import type { ShardSet } from "../../../core/2-ledger/LedgerShard.js"
import { applyEffect } from "../../../core/4-apply/ShardEffects.js"
import { shardOf } from "../../../core/2-ledger/Sharding.js"
import type { StepEffect } from "../../../core/4-apply/StepEffect.js"

const audience = "vip" as AudienceKey
const shardCount = 4
const emails = Array.from({ length: 24 }, (_, i) => `m${i}@x.io` as Email)
const email = fc.constantFrom(...emails)
const batch = fc.constantFrom(7, 8).map((n) => n as ImportBatchId)
const code = fc.constantFrom("1004", "1005")

const arbEffect: fc.Arbitrary<StepEffect> = fc.oneof(
  fc.record({ _tag: fc.constant("MembershipConfirmed" as const), emails: fc.array(email, { maxLength: 8 }), synced: fc.boolean() }),
  fc.record({
    _tag: fc.constant("LeadIdsLearned" as const),
    ids: fc.array(fc.record({ email, leadIds: fc.array(fc.integer({ min: 1, max: 9 }).map((n) => n as LeadId), { maxLength: 2 }) }), { maxLength: 6 })
  }),
  fc.record({ _tag: fc.constant("EmailsRefused" as const), refused: fc.array(fc.record({ email, code }), { maxLength: 3 }) }),
  fc.record({ _tag: fc.constant("ImportStarted" as const), batchIds: fc.array(batch, { minLength: 1, maxLength: 1 }), emails: fc.array(email, { maxLength: 8 }) }),
  fc.record({
    _tag: fc.constant("ImportEnded" as const),
    batchId: batch,
    status: fc.constantFrom("Complete" as const, "Failed" as const),
    failed: fc.array(fc.record({ email, code }), { maxLength: 3 })
  })
)

/** Every shard of the audience, folded from members entering and leaving. */
const arbShards = fc.array(fc.tuple(email, fc.boolean(), fc.integer({ min: 0, max: 3 })), { maxLength: 40 }).map((entries) => {
  const shards: ShardSet = new Map()
  for (let n = 0; n < shardCount; n++) {
    const changes = entries
      .filter(([e]) => shardOf(e, shardCount) === n)
      .map(([e, member, t], i) => new MembershipChange({ audience, audienceClass: "audience", user: `u${i % 5}`, email: e, member, timestamp: t, messageId: `m${i}` }))
    shards.set(n, foldShard(emptyShard(audience, n), changes))
  }
  return shards
})

const copyOf = (shards: ShardSet): ShardSet => new Map([...shards].map(([n, s]) => [n, structuredClone(s) as LedgerShard]))

describe("ShardEffects", () => {
  it("in place and by copy give the same shards; by copy leaves its input as it was", () => {
    fc.assert(
      fc.property(arbShards, fc.array(arbEffect, { maxLength: 12 }), (shards, effects) => {
        const untouched = copyOf(shards)
        const copied = new Map(shards)
        for (const effect of effects) applyEffect(copied, shardCount, effect)
        const owned = copyOf(shards)
        for (const effect of effects) applyEffect(owned, shardCount, effect, { inPlace: true })
        expect(owned).toEqual(copied)
        expect(shards).toEqual(untouched)
      }),
      { numRuns: 300 }
    )
  })

  it("marks confirmed emails synced in place, without replacing the shard", () => {
    const shard = foldShard(emptyShard(audience, 0), [
      new MembershipChange({ audience, audienceClass: "audience", user: "u1", email: "a@x.io" as Email, member: true, timestamp: 1, messageId: "m1" })
    ])
    const shards: ShardSet = new Map([[0, shard]])
    applyEffect(shards, 1, { _tag: "MembershipConfirmed", emails: ["a@x.io" as Email], synced: true }, { inPlace: true })
    expect(shards.get(0)).toBe(shard)
    expect(shard.emails["a@x.io"]?.synced).toBe(true)
  })
})
