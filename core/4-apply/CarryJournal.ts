// What a flush stopped by the deadline carries over: the tick's effects, restricted to the shards
// it did not write. The record written beside them already holds every record-level effect (list
// ensured, imports started or ended), so only what the shards left still need is kept: the
// per-email effects on those shards, and each import's end or withdrawal and a list's loss (they
// change whichever records the import carried, or every record, and repeating them is harmless).
import type { Email } from "../1-events/Email.js"
import { type ShardLayout, shardOf } from "../2-ledger/Sharding.js"
import { scopeOf } from "./EffectScope.js"
import type { StepEffect } from "./StepEffect.js"

export const carryEffects = (effects: ReadonlyArray<StepEffect>, left: ReadonlySet<number>, shardCount: ShardLayout): ReadonlyArray<StepEffect> => {
  const carried: Array<StepEffect> = []
  for (const effect of effects) {
    const scope = scopeOf(effect)
    // Record-level alone: the record written beside the carried journal holds it. An import's end
    // or withdrawal, or a list lost, changes whichever records it carried: repeated whole.
    if (scope._tag === "Everywhere") carried.push(effect)
    else if (scope._tag === "Named") {
      const part = scope.only((email) => left.has(shardOf(email, shardCount)))
      if (part !== undefined) carried.push(part)
    }
  }
  return carried
}

/** The emails an effect names (an import's end names none: it changes whatever records the import carried). */
export const emailsNamedBy = (effect: StepEffect): ReadonlyArray<Email> => {
  const scope = scopeOf(effect)
  return scope._tag === "Named" ? scope.emails : []
}
