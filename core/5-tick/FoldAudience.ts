// Folding one audience's changes from the inbox: into its ledger shards two at a time (last writer
// wins, core/2-ledger/Ledger.ts), members without email into their own shards, then its record with
// the new counts, written last so a stop in between folds the same changes again, harmlessly.
import { defaultSplitAt, layoutOf, splitPointOf, splitShard } from "../2-ledger/ShardSplit.js"
import { Clock, Effect, Option, Schema } from "effect"
import type { AudienceKey } from "../1-events/Ids.js"
import { fanOut, type MembershipChange, type MembershipEvent } from "../1-events/MembershipChange.js"
import { withPendingSince } from "../2-ledger/AudienceRecord.js"
import { encodeRecord, newRecord, readRecord } from "../2-ledger/AudienceShards.js"
import { foldShard } from "../2-ledger/Ledger.js"
import type { LedgerShard } from "../2-ledger/LedgerShard.js"
import type { StoredBase } from "../2-ledger/BaseLines.js"
import { countsOfIndex, foldShouldCompact, indexEntry, loadBases, loadForFold, merged, promoteFrom, sizeOf, splicedEntries } from "../2-ledger/PendingIndex.js"
import { groupByShard } from "../2-ledger/Sharding.js"
import { StateKeys } from "../2-ledger/StateKeys.js"
import {
  currentMembers,
  foldWithoutEmail,
  type LatestWord,
  UnshardedWithoutEmailJson,
  type WithoutEmail,
  WithoutEmailJson,
  withoutEmailShardOf
} from "../2-ledger/WithoutEmail.js"
import { StateStore } from "../ports/StateStore.js"

/** Ledger shards read, folded and written together. */
const foldShardsAtOnce = 2

/**
 * Compactions one fold of an audience makes at most. A churn spread evenly over the shards brings
 * them all to the threshold in the same tick; the cap spreads their compactions (each a base
 * written again) over ticks, so no tick pays for all of them, and the indexes settle at the size
 * where this many compactions a tick keep up with the churn.
 */
export const foldCompactionsPerTick = 16

/**
 * Fold one audience's memberships: its ledger shards, members without email, then its record.
 * Past `deadline` no further shards are started (the first two always are, so every fold moves
 * on): the record is written with the counts of the shards folded, and the memberships not folded
 * are returned, one email each, for the caller to keep in the inbox.
 */
export const foldAudience = Effect.fn("FoldAudience.fold")(function*(
  audience: AudienceKey,
  memberships: ReadonlyArray<MembershipEvent>,
  receivedAt: number,
  deadline: number = Number.POSITIVE_INFINITY,
  /** A shard holding more emails than its share of this after the fold splits in two (core/2-ledger/ShardSplit.ts `splitPointOf`). */
  splitAt: number = defaultSplitAt
) {
  const store = yield* StateStore
  // The fan-out to one change per email happens here, for one audience at a time.
  const changes = memberships.flatMap(fanOut)
  const withoutEmail = memberships.filter((m) => m.emails.length === 0)
    .map(({ member, messageId, timestamp, user }): LatestWord => ({ user, member, timestamp, messageId }))
  const first = memberships[0]
  const latestExternal = [...changes].reverse().find((c) => c.externalListId !== undefined)?.externalListId
  let record = Option.getOrElse(yield* readRecord(audience), () => newRecord(audience, first?.audienceClass ?? "audience"))
  if (first !== undefined) record = { ...record, audienceClass: first.audienceClass }
  if (latestExternal !== undefined && record.listId === undefined) record = { ...record, externalListId: latestExternal }
  const groups = [...groupByShard(changes, layoutOf(record))]
  // Two shards at a time (read, fold, write), so a fold touching every shard of a million-member
  // audience never holds it whole. The record, with the counts, is written last: a stop in between
  // leaves the inbox entries in place and the next tick folds them again, which changes nothing.
  let stoppedAt = groups.length
  let compactions = 0
  for (let i = 0; i < groups.length; i += foldShardsAtOnce) {
    if (i > 0 && (yield* Clock.currentTimeMillis) >= deadline) {
      stoppedAt = i
      break
    }
    const part = groups.slice(i, i + foldShardsAtOnce)
    const byShard = new Map(part)
    // A member leaving is most likely in the base: such a shard is read whole at once. Shards of
    // members entering read their base only if its filter says one of them may be in it.
    const parts = yield* loadForFold(audience, part.map(([n]) => n), record.audienceClass, (n) => {
      const group = byShard.get(n)!
      return { emails: group.map((c) => c.email), baseLikely: group.some((c) => !c.member) }
    })
    const counts = { ...record.shards }
    const shardWrites: Array<readonly [string, string]> = []
    const toSplit: Array<readonly [LedgerShard, StoredBase | undefined]> = []
    for (const [n, group] of part) {
      const { base, index } = parts.get(n)!
      // The records changed move to the pending index (core/2-ledger/PendingIndex.ts), which is
      // all that is written unless it is time to splice it into the base. The base is searched
      // for the changed emails only (not read at all when its filter rules them all out); the
      // index was decoded just now: folded in place.
      const sizeBefore = base === undefined ? index.size! : sizeOf(base, index)
      if (base !== undefined) promoteFrom(base, index, group.map((c) => c.email), record.audienceClass)
      const fresh = new Set(group.filter((c) => index.emails[c.email] === undefined).map((c) => c.email)).size
      const folded = foldShard(index, group, { inPlace: true })
      const exact: LedgerShard = { ...folded, outside: index.outside, size: sizeBefore + fresh }
      // Grown past the split size: written as its two children, after the other shards.
      if (exact.size! > splitPointOf(n, splitAt)) {
        toSplit.push([exact, base])
        continue
      }
      counts[String(n)] = countsOfIndex(exact, record.audienceClass)
      // A compaction splices into the base's text: only when the fold read it anyway.
      const compact = base !== undefined && compactions < foldCompactionsPerTick && foldShouldCompact(exact, exact.size!)
      if (compact) compactions++
      shardWrites.push(...(compact ? splicedEntries(audience, base, exact, record.audienceClass) : [indexEntry(audience, exact)]))
    }
    record = { ...record, shards: counts }
    if (shardWrites.length > 0) yield* store.setMany(shardWrites)
    for (const [exact, read] of toSplit) {
      const base = read ?? (yield* loadBases(audience, [exact.shard])).get(exact.shard)!
      record = yield* splitShard(audience, record, merged(base, exact))
    }
  }
  record = withPendingSince(record, receivedAt)
  const writes: Array<readonly [string, string]> = []
  // Stopped by the deadline: the shards not folded, and the members without email, wait.
  const rest = stoppedAt === groups.length ? [] : [
    ...groups.slice(stoppedAt).flatMap(([, group]) => group.map(asEvent)),
    ...memberships.filter((m) => m.emails.length === 0)
  ]
  const noEmail = withoutEmail.length > 0 && rest.length === 0 ? yield* foldNoEmail(audience, withoutEmail) : undefined
  if (noEmail !== undefined) {
    record = { ...record, withoutEmail: Math.max(0, record.withoutEmail + noEmail.countChange) }
    writes.push(...noEmail.writes)
  }
  writes.push(encodeRecord(record))
  yield* store.setMany(writes)
  if (noEmail?.legacyKey !== undefined) yield* store.remove([noEmail.legacyKey])
  return { rest }
})

/** One change back as the event it came from, with this one email. */
const asEvent = (change: MembershipChange): MembershipEvent => ({
  audience: change.audience,
  audienceClass: change.audienceClass,
  user: change.user,
  member: change.member,
  timestamp: change.timestamp,
  messageId: change.messageId,
  ...(change.externalListId === undefined ? {} : { externalListId: change.externalListId }),
  emails: [change.email]
})

/**
 * Fold members without email into the touched shards of `aud/<key>/noemail/<n>`; the record's
 * count moves by what changed in those shards, so untouched shards are never read.
 */
const foldNoEmail = Effect.fn("FoldAudience.foldNoEmail")(function*(audience: AudienceKey, members: ReadonlyArray<LatestWord>) {
  const store = yield* StateStore
  // An earlier layout kept one value per audience, already counted in the record: it joins the
  // shards' "before" state, so the count stays right, and is deleted once the shards are written.
  const legacyKey = StateKeys.withoutEmailUnsharded(audience)
  const legacy = Option.flatMap(yield* store.get(legacyKey), Schema.decodeUnknownOption(UnshardedWithoutEmailJson))
  const legacyWords = Option.match(legacy, {
    onNone: (): Array<LatestWord> => [],
    onSome: (l) => Object.entries(l).map(([user, word]) => ({ user, ...word }))
  })
  const byShard = (words: ReadonlyArray<LatestWord>) => {
    const groups = new Map<number, Array<LatestWord>>()
    for (const w of words) {
      const n = withoutEmailShardOf(w.user)
      groups.set(n, [...(groups.get(n) ?? []), w])
    }
    return groups
  }
  const incoming = byShard(members)
  const old = byShard(legacyWords)
  const numbers = [...new Set([...incoming.keys(), ...old.keys()])]
  const keys = numbers.map((n) => StateKeys.withoutEmail(audience, n))
  const stored = yield* store.getMany(keys)
  let countChange = 0
  const writes: Array<readonly [string, string]> = []
  for (const [i, n] of numbers.entries()) {
    const current = Option.getOrElse(
      Option.flatMap(stored.get(keys[i]!) ?? Option.none(), Schema.decodeUnknownOption(WithoutEmailJson)),
      (): WithoutEmail => []
    )
    const before = foldWithoutEmail(current, old.get(n) ?? [])
    const after = foldWithoutEmail(before, incoming.get(n) ?? [])
    countChange += currentMembers(after) - currentMembers(before)
    writes.push([keys[i]!, Schema.encodeSync(WithoutEmailJson)(after)])
  }
  return { writes, countChange, legacyKey: Option.isSome(legacy) ? legacyKey : undefined }
})
