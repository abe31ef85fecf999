// A tick's effects cut by shard say what the effects say: applied shard by shard, each shard's
// part gives the shards the whole list gives, and the emails named per shard are those named.
import { describe, expect, it } from "@effect/vitest"
import fc from "fast-check"
import type { AudienceKey } from "../../../core/1-events/Ids.js"
import type { EmailRecord, ShardSet } from "../../../core/2-ledger/LedgerShard.js"
import { shardOf } from "../../../core/2-ledger/Sharding.js"
import { emailsNamedBy } from "../../../core/4-apply/CarryJournal.js"
import { effectsByShard } from "../../../core/4-apply/EffectsByShard.js"
import { applyEffect } from "../../../core/4-apply/ShardEffects.js"
import { effect, emails } from "./EffectArbitrary.js"

const key = "vip" as AudienceKey
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
