// Accepted events are stored under a new immutable key before the sender gets its 2xx; a tick
// folds them into the ledger and deletes them only after the fold is written.
import { Clock, Effect, Random, Schema } from "effect"
import type { DecodedEvents } from "../1-events/EventDecoder.js"
import { AudienceClass, AudienceKey } from "../1-events/Ids.js"
import { MembershipChange } from "../1-events/MembershipChange.js"
import { StateStore } from "../ports/StateStore.js"
import { StateKeys } from "./StateKeys.js"

export const MemberWithoutEmailSchema = Schema.Struct({
  audience: AudienceKey,
  audienceClass: AudienceClass,
  user: Schema.String,
  member: Schema.Boolean,
  timestamp: Schema.Number,
  messageId: Schema.String
})

export const InboxEntry = Schema.Struct({
  receivedAt: Schema.Number,
  changes: Schema.Array(MembershipChange),
  withoutEmail: Schema.Array(MemberWithoutEmailSchema)
})
export type InboxEntry = typeof InboxEntry.Type
export const InboxEntryJson = Schema.parseJson(InboxEntry)

export const appendInbox = Effect.fn("Inbox.append")(function*(decoded: DecodedEvents) {
  const store = yield* StateStore
  const receivedAt = yield* Clock.currentTimeMillis
  const suffix = (yield* Random.nextIntBetween(0, 2 ** 31 - 1)).toString(36) + (yield* Random.nextIntBetween(0, 2 ** 31 - 1)).toString(36)
  const key = StateKeys.inbox(receivedAt, suffix)
  const entry: InboxEntry = { receivedAt, changes: decoded.changes, withoutEmail: decoded.withoutEmail }
  yield* store.set(key, Schema.encodeSync(InboxEntryJson)(entry))
  return key
})
