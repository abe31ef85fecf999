// A tick's effects cut by shard say what the effects say: applied shard by shard, each shard's
// part gives the shards the whole list gives, and the emails named per shard are those named.
import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import type { Email } from "../../../core/1-events/Email.js"
import type { AudienceKey, ImportBatchId, LeadId } from "../../../core/1-events/Ids.js"
import type { EmailRecord, ShardSet } from "../../../core/2-ledger/LedgerShard.js"
import { shardOf } from "../../../core/2-ledger/Sharding.js"
import { emailsNamedBy } from "../../../core/4-apply/CarryJournal.js"
import { effectsByShard } from "../../../core/4-apply/EffectsByShard.js"
import { applyEffect } from "../../../core/4-apply/ShardEffects.js"
import type { StepEffect } from "../../../core/4-apply/StepEffect.js"

const key = "vip" as AudienceKey
const emails = Array.from({ length: 24 }, (_, i) => `p${i}@example.com` as Email)
const pick = fc.integer({ min: 0, max: emails.length - 1 })
const some = (max: number) => fc.uniqueArray(pick, { minLength: 1, maxLength: max }).map((is) => is.map((i) => emails[i]!))

const effect: fc.Arbitrary<StepEffect> = fc.oneof(
  fc.record({ es: some(8), synced: fc.boolean() }).map(({ es, synced }): StepEffect => ({ _tag: "MembershipConfirmed", emails: es, synced })),
  some(6).map((es): StepEffect => ({ _tag: "LeadIdsLearned", ids: es.map((email, i) => ({ email, leadIds: [(i + 1) as LeadId] })) })),
  some(4).map((es): StepEffect => ({ _tag: "EmailsRefused", refused: es.map((email) => ({ email, code: "1003" })) })),
  fc.record({ es: some(8), batch: fc.integer({ min: 1, max: 3 }) }).map(({ batch, es }): StepEffect => ({ _tag: "ImportStarted", batchIds: [batch as ImportBatchId], emails: es })),
  fc.record({ batch: fc.integer({ min: 1, max: 3 }), ok: fc.boolean() })
    .map(({ batch, ok }): StepEffect => ({ _tag: "ImportEnded", batchId: batch as ImportBatchId, status: ok ? "Complete" : "Failed", failed: [] })),
  fc.constant<StepEffect>({ _tag: "ListLost" })
)

const shardsOf = (): ShardSet => {
  const set: ShardSet = new Map()
  for (const email of emails) {
    const n = shardOf(email, 8)
    const shard = set.get(n) ?? { audience: key, shard: n, emails: {} }
    const records = shard.emails as Record<string, EmailRecord>
    records[email] = { holders: [{ user: email, member: true, timestamp: 1, messageId: "m" }], synced: false }
    set.set(n, shard)
  }
  return set
}

describe("EffectsByShard: a tick's effects cut by shard once", () => {
  it.prop("applied shard by shard, the parts give what the whole list gives", [fc.array(effect, { maxLength: 12 })], ([effects]) => {
    const whole = shardsOf()
    for (const e of effects) applyEffect(whole, 8, e)
    const split = effectsByShard(effects, 8)
    const cut = shardsOf()
    for (const [n, shard] of cut) {
      const one: ShardSet = new Map([[n, shard]])
      for (const e of split.forShard(n)) applyEffect(one, 8, e)
      cut.set(n, one.get(n)!)
      // Each part names only its shard's emails.
      for (const e of split.forShard(n)) for (const email of emailsNamedBy(e)) expect(shardOf(email, 8)).toBe(n)
    }
    expect(cut).toEqual(whole)
    const named = split.namedIn([...cut.keys()])
    const expected = effects.flatMap(emailsNamedBy)
    expect([...named.values()].flat().sort()).toEqual([...expected].sort())
  })
})
