// What a flush stopped by the deadline carries over: the tick's effects, restricted to the shards
// it did not write. The record written beside them already holds every record-level effect (list
// ensured, imports started or ended), so only what the shards left still need is kept: the
// per-email effects on those shards, and each import's end or withdrawal and a list's loss (they
// change whichever records the import carried, or every record, and repeating them is harmless).
import type { Email } from "../1-events/Email.js"
import { type ShardLayout, shardOf } from "../2-ledger/Sharding.js"
import type { StepEffect } from "./StepEffect.js"

export const carryEffects = (effects: ReadonlyArray<StepEffect>, left: ReadonlySet<number>, shardCount: ShardLayout): ReadonlyArray<StepEffect> => {
  const keeps = (email: Email) => left.has(shardOf(email, shardCount))
  const carried: Array<StepEffect> = []
  for (const effect of effects) {
    switch (effect._tag) {
      case "ListEnsured":
        break
      case "LeadIdsLearned": {
        const ids = effect.ids.filter((i) => keeps(i.email))
        if (ids.length > 0) carried.push({ ...effect, ids })
        break
      }
      case "EmailsRefused": {
        const refused = effect.refused.filter((r) => keeps(r.email))
        if (refused.length > 0) carried.push({ ...effect, refused })
        break
      }
      case "MembershipConfirmed":
      case "ImportSending":
      case "ImportStarted":
      case "ImportStaged": {
        const emails = effect.emails.filter(keeps)
        if (emails.length > 0) carried.push({ ...effect, emails })
        break
      }
      // Record-level alone: the record written beside the carried journal holds it.
      case "ImportChecked":
      case "StagedSending":
      case "StagedStarted":
      case "StagedPartsDeleted":
        break
      // These change whichever records carry the import (or every record, a list lost): repeated whole.
      case "ImportNotSent":
      case "ImportEnded":
      case "ListLost":
        carried.push(effect)
        break
      case "FieldsSent": {
        const sent = effect.sent.filter((s) => keeps(s.email))
        if (sent.length > 0) carried.push({ ...effect, sent })
        break
      }
    }
  }
  return carried
}

/** The emails an effect names (an import's end names none: it changes whatever records the import carried). */
export const emailsNamedBy = (effect: StepEffect): ReadonlyArray<Email> => {
  switch (effect._tag) {
    case "ListEnsured":
    case "ImportNotSent":
    case "ImportChecked":
    case "ImportEnded":
    case "ListLost":
    case "StagedSending":
    case "StagedStarted":
    case "StagedPartsDeleted":
      return []
    case "LeadIdsLearned":
      return effect.ids.map((i) => i.email)
    case "EmailsRefused":
      return effect.refused.map((r) => r.email)
    case "MembershipConfirmed":
    case "ImportSending":
    case "ImportStarted":
    case "ImportStaged":
      return effect.emails
    case "FieldsSent":
      return effect.sent.map((s) => s.email)
  }
}

/** The emails these effects name, by shard, for the shards in `only`. */
export const namedByShard = (effects: ReadonlyArray<StepEffect>, shardCount: ShardLayout, only: ReadonlySet<number>): ReadonlyMap<number, ReadonlyArray<Email>> => {
  const byShard = new Map<number, Array<Email>>()
  for (const effect of effects) {
    for (const email of emailsNamedBy(effect)) {
      const n = shardOf(email, shardCount)
      if (!only.has(n)) continue
      const group = byShard.get(n)
      if (group === undefined) byShard.set(n, [email])
      else group.push(email)
    }
  }
  return byShard
}
