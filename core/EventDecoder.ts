// Segment audience events → membership changes. Accepts what Segment's HTTP API and webhook
// senders post: one event, a JSON array, or {"batch": [...]}; `identify` (membership in traits) and
// `track` (membership in properties, or the "Audience Entered"/"Audience Exited" event name).
// Every event yields one change per distinct valid email, a member-without-email record, or a
// rejection naming its index and what was wrong. It never throws, whatever the input.
import { Data, Either } from "effect"
import type { Email } from "./Email.js"
import { normalizeEmail } from "./EmailNormalizer.js"
import type { AudienceClass, AudienceKey, ListId } from "./Ids.js"
import { MembershipChange } from "./MembershipChange.js"
import { canonicalHash } from "./CanonicalHash.js"

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

export interface DecodedEvents {
  /** Events seen in the body. */
  readonly events: number
  /** Events that yielded at least one change or a member without email. */
  readonly accepted: number
  readonly changes: ReadonlyArray<MembershipChange>
  readonly withoutEmail: ReadonlyArray<MemberWithoutEmail>
  readonly rejected: ReadonlyArray<EventRejection>
}

/** The body as a whole is unusable (not JSON, or not events at all). */
export class BodyRejected extends Data.TaggedError("BodyRejected")<{ readonly reason: string }> {}

type Json = Record<string, unknown>
const maxIdLength = 1_000
const isoDate = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/

// Own properties only: input keys such as "__proto__" are read as data, never followed.
const isObject = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)
const field = (o: unknown, key: string): unknown =>
  isObject(o) && Object.prototype.hasOwnProperty.call(o, key) ? o[key] : undefined
const path = (o: unknown, ...keys: ReadonlyArray<string>): unknown =>
  keys.reduce<unknown>((at, key) => field(at, key), o)
const describe = (u: unknown): string => {
  const text = JSON.stringify(u) ?? String(u)
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

class Invalid {
  constructor(readonly reason: string) {}
}
const fail = (reason: string): never => {
  throw new Invalid(reason)
}

const idString = (value: unknown, name: string): string | undefined => {
  if (value === undefined || value === null || value === "") return undefined
  if (typeof value !== "string" && typeof value !== "number") return fail(`${name} must be a string, got ${describe(value)}`)
  const text = String(value)
  return text.length > maxIdLength ? fail(`${name} is longer than ${maxIdLength} characters`) : text
}

const audienceKeyOf = (event: Json): AudienceKey => {
  const key = idString(path(event, "context", "personas", "computation_key"), "context.personas.computation_key") ??
    idString(path(event, "properties", "audience_key"), "properties.audience_key") ??
    idString(path(event, "traits", "audience_key"), "traits.audience_key")
  const trimmed = key?.trim()
  if (trimmed === undefined || trimmed === "") {
    return fail("no audience key (context.personas.computation_key, properties.audience_key or traits.audience_key)")
  }
  return trimmed.length > 255 ? fail("audience key is longer than 255 characters") : trimmed as AudienceKey
}

const audienceClassOf = (event: Json): AudienceClass => {
  const value = path(event, "context", "personas", "computation_class")
  if (value === undefined || value === null || value === "audience") return "audience"
  if (value === "journey_step") return "journey_step"
  return fail(`context.personas.computation_class ${describe(value)} is not "audience" or "journey_step"`)
}

const membershipOf = (event: Json, type: "identify" | "track", key: string): boolean => {
  const holder = type === "identify" ? "traits" : "properties"
  const value = path(event, holder, key)
  if (typeof value === "boolean") return value
  if (value === undefined && type === "track") {
    const name = field(event, "event")
    if (name === "Audience Entered") return true
    if (name === "Audience Exited") return false
  }
  return value === undefined
    ? fail(`membership ${holder}.${key} is missing`)
    : fail(`membership ${holder}.${key} must be a boolean, got ${describe(value)}`)
}

const userOf = (event: Json): string => {
  const userId = idString(field(event, "userId"), "userId")
  if (userId !== undefined) return userId
  const anonymousId = idString(field(event, "anonymousId"), "anonymousId")
  return anonymousId !== undefined ? `anon:${anonymousId}` : fail("no userId and no anonymousId")
}

const timestampOf = (event: Json, receivedAt: number): number => {
  for (const name of ["timestamp", "originalTimestamp", "sentAt"] as const) {
    const value = field(event, name)
    if (value === undefined || value === null) continue
    const millis = typeof value === "string" && isoDate.test(value) ? Date.parse(value) : Number.NaN
    return Number.isFinite(millis) ? millis : fail(`${name} ${describe(value)} is not an ISO 8601 date`)
  }
  return receivedAt
}

const externalListIdOf = (event: Json): ListId | undefined => {
  const value = path(event, "context", "personas", "external_audience_id")
  if (value === undefined || value === null || value === "") return undefined
  const id = typeof value === "number" ? value : typeof value === "string" && /^\d+$/.test(value) ? Number(value) : Number.NaN
  return Number.isSafeInteger(id) && id > 0
    ? id as ListId
    : fail(`context.personas.external_audience_id ${describe(value)} is not a Marketo list id`)
}

/** Every raw email the event carries, wherever Segment and other senders put it. */
const rawEmailsOf = (event: Json, type: "identify" | "track"): ReadonlyArray<unknown> => {
  const places = [
    type === "identify" ? path(event, "traits", "email") : path(event, "context", "traits", "email"),
    path(event, "properties", "email")
  ]
  const externalIds = path(event, "context", "externalIds")
  if (Array.isArray(externalIds)) {
    for (const entry of externalIds) {
      if (field(entry, "type") === "email") places.push(field(entry, "id"))
    }
  }
  return places.flatMap((place) => (Array.isArray(place) ? place : place === undefined || place === null ? [] : [place]))
}

interface EventResult {
  readonly changes: ReadonlyArray<MembershipChange>
  readonly withoutEmail?: MemberWithoutEmail
  readonly emailProblems: ReadonlyArray<string>
}

const decodeEvent = (event: unknown, receivedAt: number): EventResult => {
  if (!isObject(event)) return fail(`event is not a JSON object, got ${describe(event)}`)
  const type = field(event, "type")
  if (type !== "identify" && type !== "track") {
    return fail(type === undefined ? "event has no type" : `unsupported event type ${describe(type)}`)
  }
  const audience = audienceKeyOf(event)
  const audienceClass = audienceClassOf(event)
  const member = membershipOf(event, type, audience)
  const user = userOf(event)
  const timestamp = timestampOf(event, receivedAt)
  const externalListId = externalListIdOf(event)
  const messageId = idString(field(event, "messageId"), "messageId") ?? `derived:${canonicalHash(event)}`

  const emails = new Set<Email>()
  const emailProblems: Array<string> = []
  const raws = rawEmailsOf(event, type)
  for (const raw of raws) {
    if (typeof raw !== "string") {
      emailProblems.push(`email must be a string, got ${describe(raw)}`)
      continue
    }
    Either.match(normalizeEmail(raw), {
      onLeft: (reason) => emailProblems.push(reason),
      onRight: (email) => emails.add(email)
    })
  }
  if (emails.size === 0 && emailProblems.length > 0) return fail(emailProblems.join("; "))
  const base = { audience, audienceClass, user, member, timestamp, messageId }
  if (emails.size === 0) return { changes: [], withoutEmail: base, emailProblems }
  const changes = [...emails].map((email) =>
    new MembershipChange({ ...base, email, ...(externalListId === undefined ? {} : { externalListId }) }, { disableValidation: true })
  )
  return { changes, emailProblems }
}

const eventsOf = (body: unknown): Either.Either<ReadonlyArray<unknown>, BodyRejected> => {
  const events = Array.isArray(body) ? body : isObject(body) && Array.isArray(field(body, "batch")) ? field(body, "batch") as ReadonlyArray<unknown> : isObject(body) && field(body, "type") !== undefined ? [body] : undefined
  if (events === undefined) {
    return Either.left(new BodyRejected({ reason: "the body must be an event object, a JSON array of events, or {\"batch\": [...]}" }))
  }
  return events.length === 0 ? Either.left(new BodyRejected({ reason: "the body holds no events" })) : Either.right(events)
}

export const decodeEvents = (body: unknown, receivedAt: number): Either.Either<DecodedEvents, BodyRejected> =>
  Either.map(eventsOf(body), (events) => {
    const changes: Array<MembershipChange> = []
    const withoutEmail: Array<MemberWithoutEmail> = []
    const rejected: Array<EventRejection> = []
    let accepted = 0
    events.forEach((event, index) => {
      try {
        const result = decodeEvent(event, receivedAt)
        accepted++
        changes.push(...result.changes)
        if (result.withoutEmail !== undefined) withoutEmail.push(result.withoutEmail)
        for (const reason of result.emailProblems) rejected.push({ index, reason })
      } catch (error) {
        rejected.push({ index, reason: error instanceof Invalid ? error.reason : "event could not be read" })
      }
    })
    return { events: events.length, accepted, changes, withoutEmail, rejected }
  })

export const decodeEventsText = (text: string, receivedAt: number): Either.Either<DecodedEvents, BodyRejected> => {
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch (error) {
    return Either.left(new BodyRejected({ reason: `the body is not JSON: ${error instanceof Error ? error.message : "parse error"}` }))
  }
  return decodeEvents(body, receivedAt)
}
