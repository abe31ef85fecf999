// An audience's changes whose fold failed for a reason that will not pass by itself (a storage
// error, a value that does not decode, a bug). They leave the inbox so the other audiences of the
// same entries go on, and wait here — never lost — for the operator to fix the cause and retry.
// Keys carry no audience key (it may be what failed); the value names it.
import { Clock, Effect, Option, Random, Schema } from "effect"
import { AudienceKey } from "../1-events/Ids.js"
import { MembershipEvent } from "../1-events/MembershipChange.js"
import { StateStore } from "../ports/StateStore.js"
import { newInboxKey, storeInboxEntry } from "./Inbox.js"
import { StateKeys } from "./StateKeys.js"

export const QuarantineReason = Schema.Struct({ tag: Schema.String, message: Schema.String })
export type QuarantineReason = typeof QuarantineReason.Type

const Quarantined = Schema.Struct({
  /** The audience, or none when the entry itself could not be read. */
  audience: Schema.NullOr(AudienceKey),
  reason: QuarantineReason,
  quarantinedAt: Schema.Number,
  /** When the oldest of these changes arrived. */
  receivedAt: Schema.Number,
  memberships: Schema.Array(MembershipEvent),
  /** An entry that did not decode, kept as it was stored. */
  raw: Schema.optional(Schema.String)
})
type Quarantined = typeof Quarantined.Type
const QuarantinedJson = Schema.parseJson(Quarantined)

/** Keys end with the number of changes held, so the status counts them without reading values. */
const changesInKey = (key: string) => Number(/-c(\d+)$/.exec(key)?.[1] ?? 0)

export const quarantine = Effect.fn("Quarantine.put")(function*(
  item: Omit<Quarantined, "quarantinedAt">
) {
  const store = yield* StateStore
  const now = yield* Clock.currentTimeMillis
  const id = (yield* Random.nextIntBetween(0, 2 ** 31 - 1)).toString(36)
  const changes = item.memberships.reduce((n, m) => n + Math.max(1, m.emails.length), 0)
  const key = StateKeys.quarantine(now, `${id}-c${changes}`)
  yield* store.set(key, Schema.encodeSync(QuarantinedJson)({ ...item, quarantinedAt: now }))
  yield* Effect.logError("changes quarantined").pipe(Effect.annotateLogs({
    audience: item.audience ?? "(unreadable entry)",
    changes,
    error: item.reason.tag,
    message: item.reason.message
  }))
})

export interface QuarantineView {
  /** Changes held (members without email count one each). */
  readonly count: number
  /** Quarantined values: one per audience and tick. */
  readonly entries: number
  /** When the oldest was quarantined (epoch ms). */
  readonly oldest?: number
  /** Distinct reasons with their audiences, from the first values read. */
  readonly reasons: ReadonlyArray<{ readonly audience: string | null; readonly tag: string; readonly message: string }>
}

/** Values read for the reasons shown; the count and the oldest come from the keys alone. */
const reasonsRead = 20

export const quarantineView = Effect.fn("Quarantine.view")(function*() {
  const store = yield* StateStore
  const keys = yield* store.list(StateKeys.quarantinePrefix)
  const values = yield* store.getMany(keys.slice(0, reasonsRead)).pipe(
    Effect.catchTag("StateNotVisible", () => Effect.succeed(new Map<string, Option.Option<string>>()))
  )
  const reasons = new Map<string, QuarantineView["reasons"][number]>()
  for (const value of values.values()) {
    const item = Option.flatMap(value, Schema.decodeUnknownOption(QuarantinedJson))
    if (Option.isNone(item)) continue
    const { audience, reason } = item.value
    reasons.set(`${audience}\u0000${reason.tag}\u0000${reason.message}`, { audience, ...reason })
  }
  const oldest = keys[0] === undefined ? undefined : Number(keys[0].slice(StateKeys.quarantinePrefix.length, StateKeys.quarantinePrefix.length + 13))
  return {
    count: keys.reduce((n, k) => n + changesInKey(k), 0),
    entries: keys.length,
    ...(oldest === undefined ? {} : { oldest }),
    reasons: [...reasons.values()]
  } satisfies QuarantineView
})

/**
 * Put every quarantined change back into the inbox (with the time it first arrived), to be folded
 * on the next tick. Each is written to the inbox before its quarantine value goes, so a stop in
 * between folds it twice, which changes nothing.
 */
export const retryQuarantine = Effect.fn("Quarantine.retry")(function*() {
  const store = yield* StateStore
  const keys = yield* store.list(StateKeys.quarantinePrefix)
  let retried = 0
  let unreadable = 0
  for (const key of keys) {
    const item = Option.flatMap(yield* store.get(key), Schema.decodeUnknownOption(QuarantinedJson))
    if (Option.isNone(item)) {
      unreadable++
      continue
    }
    const { memberships, raw, receivedAt } = item.value
    if (raw !== undefined) {
      // An entry that did not decode goes back as it was: a fixed decoder may read it now.
      yield* store.set(yield* newInboxKey(receivedAt), raw)
    } else if (memberships.length > 0) {
      yield* storeInboxEntry(yield* newInboxKey(receivedAt, memberships.map((m) => m.audience)), { receivedAt, memberships })
    }
    yield* store.remove([key])
    retried += changesInKey(key)
  }
  return { retried, unreadable }
})
