// The first stage of a tick: fold the inbox into each audience's ledger shards (last writer wins,
// core/2-ledger/Ledger.ts), and members without email into their own shards. Inbox entries are
// deleted only once every fold is written, so a tick stopped anywhere folds them again, harmlessly.
import { Effect, Option, Schema } from "effect"
import type { AudienceKey } from "../1-events/Ids.js"
import type { MembershipChange } from "../1-events/MembershipChange.js"
import { withPendingSince } from "../2-ledger/AudienceRecord.js"
import { encodeRecord, encodeShard, loadShards, newRecord, readRecord, withShardCounts } from "../2-ledger/AudienceShards.js"
import { InboxEntryJson, type InboxEntry } from "../2-ledger/Inbox.js"
import { foldShard } from "../2-ledger/Ledger.js"
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

/** Read in groups of this many entries, so the byte cap is checked as the reading goes. */
const inboxReadConcurrency = 8

export const foldInbox = Effect.fn("FoldInbox.foldInbox")(function*(maxEntries: number, maxBytes: number) {
  const store = yield* StateStore
  const all = yield* store.list(StateKeys.inboxPrefix)
  const keys = all.slice(0, maxEntries)
  const entries: Array<readonly [string, InboxEntry]> = []
  let asked = 0
  let bytes = 0
  // Entries hold up to an ingest body each: stop reading past the byte cap (the first group is
  // always read), so a backlog of large batches is folded over several ticks, never all at once.
  // Each group is decoded as it arrives, so no more than a group's JSON text is held at once.
  for (let i = 0; i < keys.length && bytes < maxBytes; i += inboxReadConcurrency) {
    const group = keys.slice(i, i + inboxReadConcurrency)
    asked += group.length
    const texts = yield* Effect.forEach(group, (key) =>
      store.get(key).pipe(
        // Not visible here yet: it waits for a later tick. The others go ahead: folding is
        // last-writer-wins by event time, so the order in which entries are folded does not matter.
        Effect.catchTag("StateNotVisible", () => Effect.succeed(Option.none<string>())),
        Effect.map((json) => [key, json] as const)
      ), { concurrency: inboxReadConcurrency })
    for (const [key, json] of texts) {
      if (Option.isNone(json)) continue
      bytes += json.value.length
      const entry = Schema.decodeUnknownOption(InboxEntryJson)(json.value)
      if (Option.isNone(entry)) {
        yield* Effect.logError("inbox entry does not decode; left in place").pipe(Effect.annotateLogs({ key }))
        continue
      }
      entries.push([key, entry.value])
    }
  }
  const byAudience = new Map<AudienceKey, { changes: Array<MembershipChange>; withoutEmail: Array<InboxEntry["withoutEmail"][number]>; receivedAt: number }>()
  const slot = (audience: AudienceKey, receivedAt: number) => {
    const existing = byAudience.get(audience)
    if (existing !== undefined) {
      existing.receivedAt = Math.min(existing.receivedAt, receivedAt)
      return existing
    }
    const created = { changes: [], withoutEmail: [], receivedAt }
    byAudience.set(audience, created)
    return created
  }
  for (const [, entry] of entries) {
    for (const change of entry.changes) slot(change.audience, entry.receivedAt).changes.push(change)
    for (const member of entry.withoutEmail) slot(member.audience, entry.receivedAt).withoutEmail.push(member)
  }
  let changes = 0
  for (const [audience, batch] of byAudience) {
    changes += batch.changes.length
    yield* foldAudience(audience, batch.changes, batch.withoutEmail, batch.receivedAt)
  }
  // Only now, with every fold written, may the entries go: a crash before this re-folds them, harmlessly.
  yield* store.remove(entries.map(([key]) => key))
  // Entries left unread by the caps: more of the changes are still to come.
  return { entries: entries.length, changes, backlog: all.length > asked }
})

/** Ledger shards read, folded and written together. */
const foldShardsAtOnce = 2

const foldAudience = Effect.fn("FoldInbox.foldAudience")(function*(
  audience: AudienceKey,
  changes: ReadonlyArray<MembershipChange>,
  withoutEmail: InboxEntry["withoutEmail"],
  receivedAt: number
) {
  const store = yield* StateStore
  const first = changes[0] ?? withoutEmail[0]
  const latestExternal = [...changes].reverse().find((c) => c.externalListId !== undefined)?.externalListId
  let record = Option.getOrElse(yield* readRecord(audience), () => newRecord(audience, first?.audienceClass ?? "audience"))
  if (first !== undefined) record = { ...record, audienceClass: first.audienceClass }
  if (latestExternal !== undefined && record.listId === undefined) record = { ...record, externalListId: latestExternal }
  const groups = [...groupByShard(changes, record.shardCount)]
  // Two shards at a time (read, fold, write), so a fold touching every shard of a million-member
  // audience never holds it whole. The record, with the counts, is written last: a stop in between
  // leaves the inbox entries in place and the next tick folds them again, which changes nothing.
  for (let i = 0; i < groups.length; i += foldShardsAtOnce) {
    const part = groups.slice(i, i + foldShardsAtOnce)
    const shards = yield* loadShards(audience, part.map(([n]) => n))
    // The shards were decoded just now for this fold: folding in place saves copying every record.
    for (const [n, group] of part) shards.set(n, foldShard(shards.get(n)!, group, { inPlace: true }))
    record = withShardCounts(record, shards)
    yield* store.setMany([...shards.values()].map((s) => encodeShard(audience, s)))
  }
  record = withPendingSince(record, receivedAt)
  const writes: Array<readonly [string, string]> = []
  const noEmail = withoutEmail.length > 0 ? yield* foldNoEmail(audience, withoutEmail) : undefined
  if (noEmail !== undefined) {
    record = { ...record, withoutEmail: Math.max(0, record.withoutEmail + noEmail.countChange) }
    writes.push(...noEmail.writes)
  }
  writes.push(encodeRecord(record))
  yield* store.setMany(writes)
  if (noEmail?.legacyKey !== undefined) yield* store.remove([noEmail.legacyKey])
})

/**
 * Fold members without email into the touched shards of `aud/<key>/noemail/<n>`; the record's
 * count moves by what changed in those shards, so untouched shards are never read.
 */
const foldNoEmail = Effect.fn("FoldInbox.foldNoEmail")(function*(audience: AudienceKey, members: ReadonlyArray<LatestWord>) {
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
