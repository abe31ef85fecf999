// Segment audience events → membership events. Accepts what Segment's HTTP API and webhook
// senders post: one event, a JSON array, or {"batch": [...]}; `identify` (membership in traits) and
// `track` (membership in properties, or the "Audience Entered"/"Audience Exited" event name).
// Every event yields a membership event with its distinct valid emails (none: a member without
// email, counted), or a rejection naming its index and what was wrong. It never throws, whatever
// the input: a body from the internet is decoded by Schema and small rules returning Either, with
// a last-resort guard. With a lead field mapping (core/1-events/LeadFields.ts), each accepted event
// also carries the member's mapped trait values.
import { Data, Either } from "effect"
import { canonicalHash } from "./CanonicalHash.js"
import { audienceKeyOf, emailsOf, externalListIdOf, membershipOf, own, present, timestampOf, userOf } from "./EventFields.js"
import type { AudienceClass } from "./Ids.js"
import { fieldValuesOf, type LeadFieldMapping } from "./LeadFields.js"
import { fanOut, type MembershipChange, type MembershipEvent } from "./MembershipChange.js"
import { decodeSegmentEvent, describeValue } from "./SegmentEvent.js"

export interface EventRejection {
  readonly index: number
  readonly reason: string
}

/** An accepted event, with its place in the body (so a later rule can still refuse it by index). */
export interface AcceptedEvent extends MembershipEvent {
  readonly index: number
}

export interface DecodedEvents {
  /** Events seen in the body. */
  readonly events: number
  /** Events accepted: with emails, or (a member without email) none. */
  readonly accepted: number
  readonly memberships: ReadonlyArray<AcceptedEvent>
  readonly rejected: ReadonlyArray<EventRejection>
}

/** Every change the accepted events fan out to: one per email. */
export const changesOf = (decoded: Pick<DecodedEvents, "memberships">): ReadonlyArray<MembershipChange> =>
  decoded.memberships.flatMap(fanOut)

/** A member event that carried no email: counted so users see why a list is smaller than the audience. */
export type MemberWithoutEmail = Omit<MembershipEvent, "emails" | "externalListId" | "fields">

/** The accepted events that carried no email. */
export const withoutEmailOf = (decoded: Pick<DecodedEvents, "memberships">): ReadonlyArray<MemberWithoutEmail> =>
  decoded.memberships.filter((e) => e.emails.length === 0).map(({ audience, audienceClass, member, messageId, timestamp, user }) => ({
    audience,
    audienceClass,
    user,
    member,
    timestamp,
    messageId
  }))

/** The body as a whole is unusable (not JSON, or not events at all). */
export class BodyRejected extends Data.TaggedError("BodyRejected")<{ readonly reason: string }> {}

/** What one event contributes. `problems` are per-email reasons for an event that is still accepted. */
type EventOutcome =
  | { readonly _tag: "Accepted"; readonly event: MembershipEvent; readonly problems: ReadonlyArray<string> }
  | { readonly _tag: "Rejected"; readonly reasons: ReadonlyArray<string> }

const rejected = (reason: string): EventOutcome => ({ _tag: "Rejected", reasons: [reason] })

const decodeEvent = (raw: unknown, receivedAt: number, mapping: LeadFieldMapping): EventOutcome => {
  const fields = Either.gen(function*() {
    const event = yield* decodeSegmentEvent(raw)
    const type = event.type
    const { key: audience, raw: rawKey } = yield* audienceKeyOf(event)
    const audienceClass: AudienceClass = event.context?.personas?.computation_class ?? "audience"
    const member = yield* membershipOf(event, type, rawKey)
    const user = yield* userOf(event)
    const timestamp = yield* timestampOf(event, receivedAt)
    const messageId = present(event.messageId) ?? `derived:${canonicalHash(raw)}`
    const emails = yield* emailsOf(event, type)
    // The member's traits: on identify its own, on track `context.traits`.
    const traits = type === "identify" ? event.traits : event.context?.traits
    return { traits, audience, audienceClass, member, user, timestamp, messageId, emails, externalListId: externalListIdOf(event) }
  })
  if (Either.isLeft(fields)) return rejected(fields.left)
  const { emails, externalListId, traits, ...base } = fields.right
  // No email at all is not an error (the member is counted); only invalid ones are.
  if (emails.valid.length === 0 && emails.problems.length > 0) return { _tag: "Rejected", reasons: emails.problems }
  const listId = externalListId === undefined ? {} : { externalListId }
  // Only members with an email reach a lead, so no value is kept for one without.
  const values = emails.valid.length === 0 ? undefined : fieldValuesOf(traits, mapping)
  return {
    _tag: "Accepted",
    event: { ...base, ...listId, ...(values === undefined ? {} : { fields: values }), emails: emails.valid },
    problems: emails.problems
  }
}

/** A decoder that throws is a bug; this turns such a bug into a rejection instead of a 500. */
const decodeEventSafely = (raw: unknown, receivedAt: number, mapping: LeadFieldMapping): EventOutcome => {
  try {
    return decodeEvent(raw, receivedAt, mapping)
  } catch (error) {
    return rejected(`event could not be read: ${error instanceof Error ? error.message : "unknown error"}`)
  }
}

const bodyShape = "the body must be an event object, a JSON array of events, or {\"batch\": [...]}"

const eventsOf = (body: unknown): Either.Either<ReadonlyArray<unknown>, BodyRejected> => {
  const reject = (reason: string) => Either.left(new BodyRejected({ reason }))
  let events: ReadonlyArray<unknown>
  if (Array.isArray(body)) {
    events = body
  } else if (typeof body === "object" && body !== null) {
    const batch = own(body, "batch")
    if (batch !== undefined) {
      if (!Array.isArray(batch)) return reject(`"batch" must be an array of events, got ${describeValue(batch)}`)
      events = batch
    } else if (own(body, "type") !== undefined) {
      events = [body]
    } else {
      return reject(`${bodyShape}; got an object with neither "type" nor "batch"`)
    }
  } else {
    return reject(`${bodyShape}; got ${describeValue(body)}`)
  }
  return events.length === 0 ? reject("the body holds no events") : Either.right(events)
}

/**
 * Decodes a parsed body. `receivedAt` (epoch ms) stands in for events that carry no time; `mapping`
 * names the traits kept as Marketo lead fields (none by default).
 */
export const decodeEvents = (body: unknown, receivedAt: number, mapping: LeadFieldMapping = []): Either.Either<DecodedEvents, BodyRejected> => {
  try {
    return Either.map(eventsOf(body), (events) => {
      const accepted: Array<AcceptedEvent> = []
      const rejections: Array<EventRejection> = []
      events.forEach((event, index) => {
        const outcome = decodeEventSafely(event, receivedAt, mapping)
        if (outcome._tag === "Accepted") {
          accepted.push({ ...outcome.event, index })
          for (const reason of outcome.problems) rejections.push({ index, reason })
        } else {
          for (const reason of outcome.reasons) rejections.push({ index, reason })
        }
      })
      return { events: events.length, accepted: accepted.length, memberships: accepted, rejected: rejections }
    })
  } catch (error) {
    return Either.left(new BodyRejected({ reason: `the body could not be read: ${error instanceof Error ? error.message : "unknown error"}` }))
  }
}

/** Decodes the raw text of a body. */
export const decodeEventsText = (text: string, receivedAt: number, mapping: LeadFieldMapping = []): Either.Either<DecodedEvents, BodyRejected> => {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (error) {
    // V8's message says where parsing stopped ("... at position 12").
    return Either.left(new BodyRejected({ reason: `the body is not JSON: ${error instanceof Error ? error.message : "parse error"}` }))
  }
  return decodeEvents(body, receivedAt, mapping)
}
