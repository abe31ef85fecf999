// A tick's step effects cut by shard in one pass: each effect that names emails split into one
// part per shard its emails fall in, in order, with the effects that change every record carrying
// an import (or every record) kept in their place for every shard. A flush or a delta that works a
// shard or two at a time then reads only its shards' parts, instead of every effect of the tick
// (and hashing every email it names) once per shard.
import type { Email } from "../1-events/Email.js"
import { type ShardLayout, shardOf } from "../2-ledger/Sharding.js"
import { scopeOf } from "./EffectScope.js"
import type { StepEffect } from "./StepEffect.js"

interface Placed {
  readonly at: number
  readonly effect: StepEffect
}

export interface EffectsByShard {
  /** The effects on this shard's records, in the order they happened. */
  readonly forShard: (shard: number) => ReadonlyArray<StepEffect>
  /** The emails the effects name in these shards, by shard (for `promote`). */
  readonly namedIn: (shards: ReadonlyArray<number>) => ReadonlyMap<number, ReadonlyArray<Email>>
}

export const effectsByShard = (effects: ReadonlyArray<StepEffect>, layout: ShardLayout): EffectsByShard => {
  const parts = new Map<number, Array<Placed>>()
  const named = new Map<number, Array<Email>>()
  const everywhere: Array<Placed> = []
  for (const [at, effect] of effects.entries()) {
    const scope = scopeOf(effect)
    if (scope._tag === "RecordOnly") continue
    if (scope._tag === "Everywhere") {
      everywhere.push({ at, effect })
      continue
    }
    const shards = scope.emails.map((email) => shardOf(email, layout))
    for (const n of new Set(shards)) {
      const part = scope.only((_, i) => shards[i] === n)!
      const list = parts.get(n)
      if (list === undefined) parts.set(n, [{ at, effect: part }])
      else list.push({ at, effect: part })
    }
    for (const [i, email] of scope.emails.entries()) {
      const list = named.get(shards[i]!)
      if (list === undefined) named.set(shards[i]!, [email])
      else list.push(email)
    }
  }
  return {
    forShard: (shard) => {
      const own = parts.get(shard) ?? []
      if (everywhere.length === 0) return own.map((p) => p.effect)
      return [...own, ...everywhere].sort((a, b) => a.at - b.at).map((p) => p.effect)
    },
    namedIn: (shards) => {
      const out = new Map<number, ReadonlyArray<Email>>()
      for (const n of shards) {
        const emails = named.get(n)
        if (emails !== undefined) out.set(n, emails)
      }
      return out
    }
  }
}
