// Accepted events are stored under a new immutable key before the sender gets its 2xx; a tick
// folds them into the ledger and deletes them only after the fold is written. An entry is stored
// compactly: each audience once, each event once with its emails (the fan-out to one change per
// email happens when folded), so an entry is never larger than the body that produced it by much.
// Lead field values travel as an optional last column of an event's row, by index into the
// entry's table of field names (each name once per entry: at most the 20 mapped fields, the one
// part of an entry the body did not pay for byte by byte). Beside each entry a small summary (changes, audiences) lets the
// status page say what waits without reading the entries themselves.
import { Clock, Effect, Option, Random, Schema } from "effect"
import type { DecodedEvents } from "../1-events/EventDecoder.js"
import { Email } from "../1-events/Email.js"
import { AudienceClass, AudienceKey, ListId } from "../1-events/Ids.js"
import { LeadFieldName, type LeadFieldValues } from "../1-events/LeadFields.js"
import { MembershipChange, type MembershipEvent } from "../1-events/MembershipChange.js"
import { StateStore } from "../ports/StateStore.js"
import { emailHash } from "./Sharding.js"
import { StateKeys } from "./StateKeys.js"

/** [audience key, class, external list id or null]: stored once per entry. */
const AudienceRow = Schema.Tuple(AudienceKey, AudienceClass, Schema.NullOr(ListId))
const Index = Schema.Number.pipe(Schema.int(), Schema.nonNegative())
/** Lead field values as [field index, value, field index, value, ...]: only the fields with a value. */
const FieldsColumn = Schema.Array(Schema.Union(Index, Schema.String))
/** [audience row index, user, member (1/0), event time, message id, emails, fields?]. */
const EventRow = Schema.Tuple(
  Index,
  Schema.String.pipe(Schema.minLength(1)),
  Schema.Literal(0, 1),
  Schema.Number.pipe(Schema.int()),
  Schema.String.pipe(Schema.minLength(1)),
  Schema.Array(Email),
  Schema.optionalElement(FieldsColumn)
)

const CompactEntry = Schema.Struct({
  v: Schema.Literal(2),
  receivedAt: Schema.Number,
  audiences: Schema.Array(AudienceRow),
  /** The field names the events' fields columns index; absent when no event carries fields. */
  fields: Schema.optional(Schema.Array(LeadFieldName)),
  events: Schema.Array(EventRow)
})

/** The first layout: one change per email, each repeating its audience, user and message id. */
const MemberWithoutEmailV1 = Schema.Struct({
  audience: AudienceKey,
  audienceClass: AudienceClass,
  user: Schema.String,
  member: Schema.Boolean,
  timestamp: Schema.Number,
  messageId: Schema.String
})
const EntryV1 = Schema.Struct({
  receivedAt: Schema.Number,
  changes: Schema.Array(MembershipChange),
  withoutEmail: Schema.Array(MemberWithoutEmailV1)
})

/** An inbox entry as the fold reads it. */
export interface InboxEntry {
  readonly receivedAt: number
  readonly memberships: ReadonlyArray<MembershipEvent>
}

/** A fields column back to values by name; pairs that do not make sense (a bad index) are dropped. */
const fieldsFrom = (names: ReadonlyArray<string>, column: ReadonlyArray<number | string> | undefined): LeadFieldValues | undefined => {
  if (column === undefined) return undefined
  let values: Record<string, string> | undefined
  for (let i = 0; i + 1 < column.length; i += 2) {
    const [at, value] = [column[i], column[i + 1]]
    const name = typeof at === "number" ? names[at] : undefined
    if (name !== undefined && typeof value === "string") (values ??= {})[name] = value
  }
  return values
}

const fromCompact = (entry: typeof CompactEntry.Type): InboxEntry => ({
  receivedAt: entry.receivedAt,
  memberships: entry.events.map(([a, user, member, timestamp, messageId, emails, column]): MembershipEvent => {
    const [audience, audienceClass, externalListId] = entry.audiences[a] ?? entry.audiences[0]!
    const fields = fieldsFrom(entry.fields ?? [], column)
    return {
      audience,
      audienceClass,
      user,
      member: member === 1,
      timestamp,
      messageId,
      ...(externalListId === null ? {} : { externalListId }),
      ...(fields === undefined ? {} : { fields }),
      emails
    }
  })
})

const fromV1 = (entry: typeof EntryV1.Type): InboxEntry => ({
  receivedAt: entry.receivedAt,
  memberships: [
    ...entry.changes.map(({ email, externalListId, ...rest }): MembershipEvent => ({
      audience: rest.audience,
      audienceClass: rest.audienceClass,
      user: rest.user,
      member: rest.member,
      timestamp: rest.timestamp,
      messageId: rest.messageId,
      ...(externalListId === undefined ? {} : { externalListId }),
      emails: [email]
    })),
    ...entry.withoutEmail.map((m): MembershipEvent => ({ ...m, emails: [] }))
  ]
})

const toCompact = (entry: InboxEntry): typeof CompactEntry.Type => {
  const rows: Array<typeof AudienceRow.Type> = []
  const index = new Map<string, number>()
  const names: Array<string> = []
  const nameAt = new Map<string, number>()
  const column = (fields: LeadFieldValues): Array<number | string> => {
    const out: Array<number | string> = []
    for (const [name, value] of Object.entries(fields)) {
      let at = nameAt.get(name)
      if (at === undefined) {
        at = names.length
        nameAt.set(name, at)
        names.push(name)
      }
      out.push(at, value)
    }
    return out
  }
  const events = entry.memberships.map((m): typeof EventRow.Type => {
    const id = `${m.audienceClass}\u0000${m.externalListId ?? ""}\u0000${m.audience}`
    let a = index.get(id)
    if (a === undefined) {
      a = rows.length
      index.set(id, a)
      rows.push([m.audience, m.audienceClass, m.externalListId ?? null])
    }
    const row = [a, m.user, m.member ? 1 : 0, m.timestamp, m.messageId, m.emails] as const
    return m.fields === undefined ? row : [...row, column(m.fields)]
  })
  return { v: 2, receivedAt: entry.receivedAt, audiences: rows, ...(names.length === 0 ? {} : { fields: names }), events }
}

/** Either layout, read as one. */
export const InboxEntryJson = Schema.transform(
  Schema.parseJson(Schema.Union(CompactEntry, EntryV1)),
  Schema.declare((u: unknown): u is InboxEntry => typeof u === "object" && u !== null && "memberships" in u),
  {
    strict: true,
    decode: (stored) => ("v" in stored ? fromCompact(stored) : fromV1(stored)),
    encode: (entry) => toCompact(entry)
  }
)

/** What waits in one entry, stored beside it: how many changes, for which audiences. */
export const InboxSummary = Schema.Struct({
  receivedAt: Schema.Number,
  changes: Schema.Number,
  /** [audience, its changes (a member without email counts one)]. */
  audiences: Schema.Array(Schema.Tuple(AudienceKey, Schema.Number))
})
export type InboxSummary = typeof InboxSummary.Type
export const InboxSummaryJson = Schema.parseJson(InboxSummary)

export const summaryOf = (entry: InboxEntry): InboxSummary => {
  const perAudience = new Map<AudienceKey, number>()
  for (const m of entry.memberships) perAudience.set(m.audience, (perAudience.get(m.audience) ?? 0) + Math.max(1, m.emails.length))
  return {
    receivedAt: entry.receivedAt,
    changes: entry.memberships.reduce((n, m) => n + m.emails.length, 0),
    audiences: [...perAudience]
  }
}

/**
 * A new, unique inbox key for an entry received at this time. An entry of one audience carries a
 * short tag of it after "~", so the fold can take entries fairly between audiences from the
 * listing alone (core/5-tick/FoldInbox.ts `fairOrder`); an entry of several carries none.
 */
export const newInboxKey = Effect.fn("Inbox.newKey")(function*(receivedAt: number, audiences: ReadonlyArray<AudienceKey> = []) {
  const suffix = (yield* Random.nextIntBetween(0, 2 ** 31 - 1)).toString(36) + (yield* Random.nextIntBetween(0, 2 ** 31 - 1)).toString(36)
  const one = new Set(audiences).size === 1 ? audiences[0] : undefined
  return StateKeys.inbox(receivedAt, one === undefined ? suffix : `${suffix}~${audienceTag(one)}`)
})

/** The tag of an audience in inbox keys: a hash (FNV-1a), short whatever the key's length. */
export const audienceTag = (audience: AudienceKey): string => emailHash(audience).toString(36)

/** The audience tag an inbox key carries; "" for an entry of several audiences (or one stored before tags). */
export const inboxTagOf = (key: string): string => {
  const at = key.lastIndexOf("~")
  return at < 0 ? "" : key.slice(at + 1)
}

/** Store an entry and its summary together (one write to any reader). */
export const storeInboxEntry = Effect.fn("Inbox.store")(function*(key: string, entry: InboxEntry) {
  const store = yield* StateStore
  yield* store.setMany([
    [key, Schema.encodeSync(InboxEntryJson)(entry)],
    [StateKeys.inboxSummaryOf(key), Schema.encodeSync(InboxSummaryJson)(summaryOf(entry))]
  ])
})

export const appendInbox = Effect.fn("Inbox.append")(function*(decoded: Pick<DecodedEvents, "memberships">) {
  const receivedAt = yield* Clock.currentTimeMillis
  // The body's index of each event is the sender's business, not the ledger's.
  const memberships = decoded.memberships.map(({ index: _index, ...m }) => m as MembershipEvent)
  const key = yield* newInboxKey(receivedAt, memberships.map((m) => m.audience))
  yield* storeInboxEntry(key, { receivedAt, memberships })
  return key
})

export interface InboxView {
  readonly entries: number
  readonly changes: number
  /** When the oldest entry arrived (epoch ms). */
  readonly oldestReceivedAt?: number
  /** Changes waiting per audience, from the summaries read. */
  readonly audiences: ReadonlyArray<{ readonly audience: AudienceKey; readonly changes: number }>
}

/** Summaries read for the view: more entries than this wait only in a backlog, counted not named. */
const summariesRead = 500

/** What waits for the next tick, from the entries' summaries (the entries themselves are not read). */
export const inboxView = Effect.fn("Inbox.view")(function*() {
  const store = yield* StateStore
  const keys = yield* store.list(StateKeys.inboxPrefix)
  const summaries = yield* store.getMany(keys.slice(0, summariesRead).map(StateKeys.inboxSummaryOf)).pipe(
    Effect.catchTag("StateNotVisible", () => Effect.succeed(new Map<string, Option.Option<string>>()))
  )
  const perAudience = new Map<AudienceKey, number>()
  let changes = 0
  for (const value of summaries.values()) {
    const summary = Option.flatMap(value, Schema.decodeUnknownOption(InboxSummaryJson))
    if (Option.isNone(summary)) continue
    changes += summary.value.changes
    for (const [audience, n] of summary.value.audiences) perAudience.set(audience, (perAudience.get(audience) ?? 0) + n)
  }
  const oldest = keys[0] === undefined ? undefined : Number(keys[0].slice(StateKeys.inboxPrefix.length, StateKeys.inboxPrefix.length + 13))
  return {
    entries: keys.length,
    changes,
    ...(oldest === undefined ? {} : { oldestReceivedAt: oldest }),
    audiences: [...perAudience].map(([audience, n]) => ({ audience, changes: n }))
  } satisfies InboxView
})
