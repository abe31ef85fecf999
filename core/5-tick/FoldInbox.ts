// The first stage of a tick: fold the inbox into each audience's ledger (FoldAudience.ts). One
// audience's failure is that audience's alone: its changes wait in the inbox while the failure may
// pass (storage not visible yet, or a failure younger than `quarantineAfterMillis`), then move to
// the quarantine (core/2-ledger/Quarantine.ts) so the entries holding them can go; every other
// audience of the same entries is folded as usual. Entries are deleted only once each of their
// audiences is folded or quarantined, so a tick stopped anywhere folds them again, harmlessly.
import { Cause, Clock, Effect, Either, Exit, Option, Schema } from "effect"
import type { AudienceKey } from "../1-events/Ids.js"
import type { MembershipEvent } from "../1-events/MembershipChange.js"
import { audienceTag, InboxEntryJson, InboxSummaryJson, inboxTagOf, newInboxKey, summaryOf } from "../2-ledger/Inbox.js"
import { quarantine } from "../2-ledger/Quarantine.js"
import { StateKeys } from "../2-ledger/StateKeys.js"
import { StateStore } from "../ports/StateStore.js"
import { recordAudienceError } from "./AudienceErrors.js"
import { reasonOf } from "./FailureReason.js"
import { foldAudience } from "./FoldAudience.js"

/**
 * What one tick reads of the inbox at most, in characters. The fold holds its changes decoded (an
 * event and its change per email, with their strings): 170,000 of them, read under an 8 MB cap,
 * took some 90 MB and, beside two shards of a 10,000,000-member audience, ran a 128 MB heap out
 * (bench:tick-heap). 4 MB holds half that.
 */
export const defaultMaxInboxBytes = 4_000_000

/** Memberships per inbox entry the fold writes for changes it left (some 500 KB each). */
export const carriedEntryMemberships = 10_000

/** Read in groups of this many entries, so the byte cap is checked as the reading goes. */
const inboxReadConcurrency = 8

/**
 * How long a failing fold is tried again, tick after tick, before its changes are quarantined: a
 * storage outage of a few minutes heals by itself; a cause that lasts needs the operator.
 */
export const quarantineAfterMillis = 5 * 60_000

/** An audience whose fold failed this tick. */
export interface FoldFailure {
  readonly audience: AudienceKey | null
  readonly tag: string
  readonly message: string
  /** Its changes moved to the quarantine (else they wait in the inbox for the next tick). */
  readonly quarantined: boolean
}

export interface FoldResult {
  readonly entries: number
  readonly changes: number
  /** Entries left unread by the caps, or changes the deadline left for the next tick: more are to come. */
  readonly backlog: boolean
  /** The deadline stopped the fold: some changes wait for the next tick. */
  readonly stopped: boolean
  /**
   * The inbox tags (core/2-ledger/Inbox.ts) of the audiences whose changes still wait in the inbox
   * after this fold: in entries the caps left unread or not visible yet, kept by a failed fold, or
   * carried. Entries of several audiences carry no tag and are not counted.
   */
  readonly waitingTags: ReadonlySet<string>
  readonly failures: ReadonlyArray<FoldFailure>
}

interface AudienceBatch {
  readonly memberships: Array<MembershipEvent>
  receivedAt: number
  readonly keys: Set<string>
}

/**
 * The inbox keys in the order the fold takes them: one entry of each audience in turn (by the tag
 * its key carries, core/2-ledger/Inbox.ts), each audience's oldest first. A load of millions of
 * changes holds hundreds of entries; taken oldest first, it would keep every audience that sent
 * after it waiting until it had all been folded.
 */
export const fairOrder = (keys: ReadonlyArray<string>): ReadonlyArray<string> => {
  const groups = new Map<string, Array<string>>()
  for (const key of keys) {
    const tag = inboxTagOf(key)
    const group = groups.get(tag)
    if (group === undefined) groups.set(tag, [key])
    else group.push(key)
  }
  if (groups.size <= 1) return keys
  const order: Array<string> = []
  const lists = [...groups.values()]
  for (let i = 0; order.length < keys.length; i++) for (const list of lists) if (i < list.length) order.push(list[i]!)
  return order
}

/**
 * A group of entries read at once and decoded as they arrive: only the decoded entries come back,
 * so their JSON texts (up to an ingest body each) are garbage before the fold starts, not held by
 * the fold's frame for the rest of the tick. An entry not visible here yet is none: it waits for
 * a later tick, while the others go ahead (folding is last-writer-wins by event time, so the
 * order in which entries are folded does not matter). An entry that does not decode keeps its
 * text, for the quarantine.
 */
const readGroup = (keys: ReadonlyArray<string>) =>
  Effect.flatMap(StateStore, (store) =>
    Effect.forEach(keys, (key) =>
      store.get(key).pipe(
        Effect.catchTag("StateNotVisible", () => Effect.succeed(Option.none<string>())),
        Effect.map(Option.match({
          onNone: () => undefined,
          onSome: (json) => ({
            key,
            bytes: json.length,
            entry: Either.mapLeft(Schema.decodeUnknownEither(InboxEntryJson)(json), (error) => ({ message: error.message, raw: json }))
          })
        }))
      ), { concurrency: inboxReadConcurrency }))

/**
 * Fold the inbox entries, each audience's oldest first and the audiences in turn (`fairOrder`).
 * Past `deadline` no new work starts (the first group of entries and the first audience always
 * do, so every tick moves on): the changes not folded yet are kept in new inbox entries (with the
 * arrival time of their batch), written before the entries they came from are deleted, so a stop
 * in between only folds some changes twice, which changes nothing.
 */
export const foldInbox = Effect.fn("FoldInbox.foldInbox")(function*(
  maxEntries: number,
  maxBytes: number,
  deadline: number = Number.POSITIVE_INFINITY,
  splitAt?: number
) {
  const store = yield* StateStore
  const now = yield* Clock.currentTimeMillis
  const all = yield* store.list(StateKeys.inboxPrefix)
  const keys = fairOrder(all).slice(0, maxEntries)
  const done: Array<string> = []
  const failures: Array<FoldFailure> = []
  const byAudience = new Map<AudienceKey, AudienceBatch>()
  let asked = 0
  let bytes = 0
  let stopped = false
  // Entries hold up to an ingest body each: stop reading past the byte cap (the first group is
  // always read), so a backlog of large batches is folded over several ticks, never all at once.
  for (let i = 0; i < keys.length && bytes < maxBytes; i += inboxReadConcurrency) {
    if (i > 0 && (yield* Clock.currentTimeMillis) >= deadline) {
      stopped = true
      break
    }
    const group = keys.slice(i, i + inboxReadConcurrency)
    asked += group.length
    for (const read of yield* readGroup(group)) {
      if (read === undefined) continue
      const { key, entry } = read
      bytes += read.bytes
      if (entry._tag === "Left") {
        const reason = { tag: "InboxEntryUnreadable", message: `inbox entry ${key} does not decode: ${entry.left.message.slice(0, 300)}` }
        const receivedAt = Number(key.slice(StateKeys.inboxPrefix.length, StateKeys.inboxPrefix.length + 13))
        const kept = yield* Effect.exit(quarantine({ audience: null, reason, receivedAt, memberships: [], raw: entry.left.raw }))
        failures.push({ audience: null, ...reason, quarantined: Exit.isSuccess(kept) })
        if (Exit.isSuccess(kept)) done.push(key)
        continue
      }
      done.push(key)
      for (const m of entry.right.memberships) {
        const batch = byAudience.get(m.audience)
        if (batch === undefined) {
          byAudience.set(m.audience, { memberships: [m], receivedAt: entry.right.receivedAt, keys: new Set([key]) })
        } else {
          batch.memberships.push(m)
          batch.receivedAt = Math.min(batch.receivedAt, entry.right.receivedAt)
          batch.keys.add(key)
        }
      }
    }
  }
  const keep = new Set<string>()
  /** Changes the deadline left unfolded: kept in new entries, one per audience. */
  const carried: Array<{ readonly audience: AudienceKey; readonly receivedAt: number; readonly memberships: ReadonlyArray<MembershipEvent> }> = []
  let changes = 0
  let started = false
  // The audiences with the fewest changes first: a large load folding to the deadline then
  // delays the small ones by nothing, and carries its own rest to the next tick.
  const smallestFirst = [...byAudience].sort(([, a], [, b]) => a.memberships.length - b.memberships.length)
  for (const [audience, batch] of smallestFirst) {
    if (started && (yield* Clock.currentTimeMillis) >= deadline) {
      carried.push({ audience, receivedAt: batch.receivedAt, memberships: batch.memberships })
      continue
    }
    started = true
    const folded = yield* Effect.exit(foldAudience(audience, batch.memberships, batch.receivedAt, deadline, splitAt))
    if (Exit.isSuccess(folded)) {
      const { rest } = folded.value
      changes += batch.memberships.reduce((n, m) => n + m.emails.length, 0) - rest.reduce((n, m) => n + m.emails.length, 0)
      if (rest.length > 0) carried.push({ audience, receivedAt: batch.receivedAt, memberships: rest })
      continue
    }
    if (Cause.isInterruptedOnly(folded.cause)) return yield* Effect.failCause(folded.cause)
    const failure = Cause.failureOption(folded.cause)
    // Storage that has not caught up yet heals by itself: the changes simply wait.
    const transient = Option.isSome(failure) && failure.value._tag === "StateNotVisible"
    const reason = reasonOf(folded.cause)
    const old = now - batch.receivedAt >= quarantineAfterMillis
    const quarantined = !transient && old &&
      Exit.isSuccess(yield* Effect.exit(quarantine({ audience, reason, receivedAt: batch.receivedAt, memberships: batch.memberships })))
    if (!quarantined) for (const key of batch.keys) keep.add(key)
    if (!transient) {
      failures.push({ audience, ...reason, quarantined })
      yield* recordAudienceError(audience, { ...reason, code: quarantined ? "quarantined" : "fold" })
    }
    yield* Effect.logError("fold failed").pipe(Effect.annotateLogs({ audience, error: reason.tag, message: reason.message, quarantined }))
  }
  // What the deadline left is written to new entries before the entries it came from go: entries
  // of at most `carriedEntryMemberships`, so the next tick's byte cap still bounds what it reads
  // (one entry of a whole load's rest would be read whole, as the first entry always is).
  if (carried.length > 0) {
    const writes: Array<readonly [string, string]> = []
    for (const carry of carried) {
      for (let i = 0; i < carry.memberships.length; i += carriedEntryMemberships) {
        const key = yield* newInboxKey(carry.receivedAt, [carry.audience])
        const entry = { receivedAt: carry.receivedAt, memberships: carry.memberships.slice(i, i + carriedEntryMemberships) }
        writes.push([key, Schema.encodeSync(InboxEntryJson)(entry)], [StateKeys.inboxSummaryOf(key), Schema.encodeSync(InboxSummaryJson)(summaryOf(entry))])
      }
    }
    yield* store.setMany(writes)
  }
  // Only now, with every fold written, quarantined or carried, may the entries go.
  const gone = done.filter((key) => !keep.has(key))
  yield* store.remove([...gone, ...gone.map(StateKeys.inboxSummaryOf)])
  const removed = new Set(gone)
  const waitingTags = new Set(all.filter((key) => !removed.has(key)).map(inboxTagOf).filter((tag) => tag !== ""))
  for (const carry of carried) waitingTags.add(audienceTag(carry.audience))
  return {
    entries: gone.length,
    changes,
    backlog: all.length > asked || carried.length > 0,
    stopped: stopped || carried.length > 0,
    failures,
    waitingTags
  } satisfies FoldResult
})
