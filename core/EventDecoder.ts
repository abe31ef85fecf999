// Segment audience events → membership changes. Accepts what Segment's HTTP API and webhook
// senders post: one event, a JSON array, or {"batch": [...]}; `identify` (membership in traits) and
// `track` (membership in properties, or the "Audience Entered"/"Audience Exited" event name).
// Every event yields one change per distinct valid email, a member-without-email record, or a
// rejection naming its index and what was wrong. It never throws, whatever the input: a body from
// the internet is decoded by Schema and small rules returning Either, with a last-resort guard.
import { Data, Either } from "effect"
import { canonicalHash } from "./CanonicalHash.js"
import type { Email } from "./Email.js"
import { normalizeEmail } from "./EmailNormalizer.js"
import type { AudienceClass, AudienceKey, ListId } from "./Ids.js"
import { MembershipChange } from "./MembershipChange.js"
import { decodeSegmentEvent, describeValue, type SegmentEvent } from "./SegmentEvent.js"

export interface EventRejection {
  readonly index: number
  readonly reason: string
}

/** A member event that carried no email: counted so users see why a list is smaller than the audience. */
export interface MemberWithoutEmail {
  readonly audience: AudienceKey
  readonly audienceClass: AudienceClass
  readonly user: string
  readonly member: boolean
  readonly timestamp: number
  readonly messageId: string
}

/** Where an accepted event sits in the body, its audience and its time. */
export interface AcceptedEvent {
  readonly index: number
  readonly audience: AudienceKey
  readonly timestamp: number
}

export interface DecodedEvents {
  /** Events seen in the body. */
  readonly events: number
  /** Events that yielded at least one change or a member without email. */
  readonly accepted: number
  readonly changes: ReadonlyArray<MembershipChange>
  readonly withoutEmail: ReadonlyArray<MemberWithoutEmail>
  readonly rejected: ReadonlyArray<EventRejection>
  /** The accepted events, for checks by audience before they are stored (ingest's own limits). */
  readonly acceptedEvents: ReadonlyArray<AcceptedEvent>
}

/** The body as a whole is unusable (not JSON, or not events at all). */
export class BodyRejected extends Data.TaggedError("BodyRejected")<{ readonly reason: string }> {}

const maxAudienceKeyLength = 255
/** More addresses than any person has; beyond it the event is a mistake or an attack. */
const maxEmailsPerEvent = 100
const isoDate = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i

// Own properties only: input keys such as "__proto__" or "constructor" are data, never followed.
const own = (o: unknown, key: string): unknown =>
  typeof o === "object" && o !== null && !Array.isArray(o) && Object.prototype.hasOwnProperty.call(o, key)
    ? (o as Readonly<Record<string, unknown>>)[key]
    : undefined

const present = (value: string | number | null | undefined): string | undefined =>
  value === undefined || value === null || value === "" ? undefined : String(value)

type EventType = SegmentEvent["type"]

/** The key as sent (to find the membership field) and as stored (trimmed, branded). */
const audienceKeyOf = (event: SegmentEvent): Either.Either<{ readonly raw: string; readonly key: AudienceKey }, string> => {
  const fallback = (holder: "properties" | "traits") => {
    const value = own(event[holder], "audience_key")
    return typeof value === "string" && value !== "" ? value : undefined
  }
  const raw = present(event.context?.personas?.computation_key) ?? fallback("properties") ?? fallback("traits")
  const key = raw?.trim()
  if (raw === undefined || key === undefined || key === "") {
    return Either.left("no audience key (context.personas.computation_key, properties.audience_key or traits.audience_key)")
  }
  return key.length > maxAudienceKeyLength
    ? Either.left(`audience key is longer than ${maxAudienceKeyLength} characters`)
    : Either.right({ raw, key: key as AudienceKey })
}

const membershipOf = (event: SegmentEvent, type: EventType, key: string): Either.Either<boolean, string> => {
  const holder = type === "identify" ? "traits" : "properties"
  const value = own(event[holder], key)
  if (typeof value === "boolean") return Either.right(value)
  if (value === undefined && type === "track") {
    if (event.event === "Audience Entered") return Either.right(true)
    if (event.event === "Audience Exited") return Either.right(false)
  }
  return Either.left(
    value === undefined
      ? `membership ${holder}.${key} is missing`
      : `membership ${holder}.${key} must be a boolean, got ${describeValue(value)}`
  )
}

/** `userId`, else `anon:` + `anonymousId`, so the two id spaces never collide. */
const userOf = (event: SegmentEvent): Either.Either<string, string> => {
  const userId = present(event.userId)
  if (userId !== undefined) return Either.right(userId)
  const anonymousId = present(event.anonymousId)
  return anonymousId !== undefined ? Either.right(`anon:${anonymousId}`) : Either.left("no userId and no anonymousId")
}

/**
 * ISO 8601 text → epoch ms. A date-time without an offset is read as UTC: `Date.parse` would read
 * it in the host's zone, and the same event must mean the same instant on every runtime.
 */
export const parseIsoDate = (value: string): number | undefined => {
  const match = isoDate.exec(value)
  if (match === null) return undefined
  const [, year, month, day, hour, minute, second, zone] = match
  const number = (part: string | undefined) => (part === undefined ? 0 : Number(part))
  // Date.parse rolls 2026-02-31 over into March; a date that does not exist is a sender's bug.
  const daysInMonth = new Date(Date.UTC(number(year), number(month), 0)).getUTCDate()
  const valid = number(month) >= 1 && number(month) <= 12 && number(day) >= 1 && number(day) <= daysInMonth &&
    number(hour) <= 23 && number(minute) <= 59 && number(second) <= 59
  if (!valid) return undefined
  const millis = Date.parse(hour !== undefined && zone === undefined ? `${value}Z` : value)
  return Number.isFinite(millis) ? Math.trunc(millis) : undefined
}

const timestampOf = (event: SegmentEvent, receivedAt: number): Either.Either<number, string> => {
  for (const name of ["timestamp", "originalTimestamp", "sentAt"] as const) {
    const value = event[name]
    if (value === undefined || value === null) continue
    const millis = typeof value === "string" ? parseIsoDate(value) : undefined
    return millis !== undefined ? Either.right(millis) : Either.left(`${name} ${describeValue(value)} is not an ISO 8601 date`)
  }
  return Either.right(Math.trunc(receivedAt))
}

const externalListIdOf = (event: SegmentEvent): ListId | undefined => {
  const value = event.context?.personas?.external_audience_id
  return value === undefined || value === null ? undefined : Number(value) as ListId
}

/** Where an email can be, by event type, as (field name, value) pairs. */
const emailPlaces = (event: SegmentEvent, type: EventType): ReadonlyArray<readonly [string, unknown]> => {
  const places: Array<readonly [string, unknown]> = type === "identify"
    ? [["traits.email", own(event.traits, "email")]]
    : [["context.traits.email", own(event.context?.traits, "email")]]
  places.push(["properties.email", own(event.properties, "email")])
  // Entries are free-form objects (user_id, ios.idfa, ...); only `type: "email"` ones matter.
  const externalIds = event.context?.externalIds ?? []
  externalIds.forEach((entry, i) => {
    if (own(entry, "type") === "email") places.push([`context.externalIds[${i}].id`, own(entry, "id")])
  })
  return places
}

interface Emails {
  readonly valid: ReadonlyArray<Email>
  readonly problems: ReadonlyArray<string>
}

/** Every distinct normalised email of the event, and a reason for each value that is not one. */
const emailsOf = (event: SegmentEvent, type: EventType): Either.Either<Emails, string> => {
  const values: Array<readonly [string, unknown]> = []
  const problems = new Set<string>()
  for (const [name, value] of emailPlaces(event, type)) {
    if (value === undefined || value === null) continue
    if (typeof value === "string") values.push([name, value])
    else if (Array.isArray(value)) value.forEach((item, i) => values.push([`${name}[${i}]`, item]))
    else problems.add(`${name} must be a string or an array of strings, got ${describeValue(value)}`)
  }
  if (values.length > maxEmailsPerEvent) {
    return Either.left(`the event carries ${values.length} email values; at most ${maxEmailsPerEvent} are accepted`)
  }
  const valid = new Set<Email>()
  for (const [name, value] of values) {
    if (typeof value !== "string") {
      problems.add(`${name} must be a string, got ${describeValue(value)}`)
      continue
    }
    Either.match(normalizeEmail(value), {
      onLeft: (reason) => problems.add(`${name}: ${reason}`),
      onRight: (email) => valid.add(email)
    })
  }
  return Either.right({ valid: [...valid], problems: [...problems] })
}

/** What one event contributes. `problems` are per-email reasons for an event that is still accepted. */
type EventOutcome =
  | { readonly _tag: "Changes"; readonly changes: ReadonlyArray<MembershipChange>; readonly problems: ReadonlyArray<string> }
  | { readonly _tag: "WithoutEmail"; readonly member: MemberWithoutEmail }
  | { readonly _tag: "Rejected"; readonly reasons: ReadonlyArray<string> }

const rejected = (reason: string): EventOutcome => ({ _tag: "Rejected", reasons: [reason] })

const decodeEvent = (raw: unknown, receivedAt: number): EventOutcome => {
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
    return { audience, audienceClass, member, user, timestamp, messageId, emails, externalListId: externalListIdOf(event) }
  })
  if (Either.isLeft(fields)) return rejected(fields.left)
  const { emails, externalListId, ...base } = fields.right
  if (emails.valid.length === 0) {
    // No email at all is not an error (the member is counted); only invalid ones are.
    return emails.problems.length > 0 ? { _tag: "Rejected", reasons: emails.problems } : { _tag: "WithoutEmail", member: base }
  }
  const listId = externalListId === undefined ? {} : { externalListId }
  const changes = emails.valid.map((email) =>
    // Every field was validated above; skipping the class's re-validation keeps big batches cheap.
    new MembershipChange({ ...base, email, ...listId }, { disableValidation: true })
  )
  return { _tag: "Changes", changes, problems: emails.problems }
}

/** A decoder that throws is a bug; this turns such a bug into a rejection instead of a 500. */
const decodeEventSafely = (raw: unknown, receivedAt: number): EventOutcome => {
  try {
    return decodeEvent(raw, receivedAt)
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

/** Decodes a parsed body. `receivedAt` (epoch ms) stands in for events that carry no time. */
export const decodeEvents = (body: unknown, receivedAt: number): Either.Either<DecodedEvents, BodyRejected> => {
  try {
    return Either.map(eventsOf(body), (events) => {
      const changes: Array<MembershipChange> = []
      const withoutEmail: Array<MemberWithoutEmail> = []
      const rejections: Array<EventRejection> = []
      const acceptedEvents: Array<AcceptedEvent> = []
      events.forEach((event, index) => {
        const outcome = decodeEventSafely(event, receivedAt)
        switch (outcome._tag) {
          case "Changes":
            acceptedEvents.push({ index, audience: outcome.changes[0]!.audience, timestamp: outcome.changes[0]!.timestamp })
            for (const change of outcome.changes) changes.push(change)
            for (const reason of outcome.problems) rejections.push({ index, reason })
            break
          case "WithoutEmail":
            acceptedEvents.push({ index, audience: outcome.member.audience, timestamp: outcome.member.timestamp })
            withoutEmail.push(outcome.member)
            break
          case "Rejected":
            for (const reason of outcome.reasons) rejections.push({ index, reason })
        }
      })
      return { events: events.length, accepted: acceptedEvents.length, changes, withoutEmail, rejected: rejections, acceptedEvents }
    })
  } catch (error) {
    return Either.left(new BodyRejected({ reason: `the body could not be read: ${error instanceof Error ? error.message : "unknown error"}` }))
  }
}

/** Decodes the raw text of a body. */
export const decodeEventsText = (text: string, receivedAt: number): Either.Either<DecodedEvents, BodyRejected> => {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (error) {
    // V8's message says where parsing stopped ("... at position 12").
    return Either.left(new BodyRejected({ reason: `the body is not JSON: ${error instanceof Error ? error.message : "parse error"}` }))
  }
  return decodeEvents(body, receivedAt)
}
