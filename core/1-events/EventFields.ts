// Reading one Segment event's fields: its audience key, membership, user, time, list id and
// emails. Each reader returns Either: a value, or the reason the event is refused.
import { Either } from "effect"
import type { Email } from "./Email.js"
import { normalizeEmail } from "./EmailNormalizer.js"
import { type AudienceKey, encodedAudienceKeyBytes, type ListId, maxEncodedAudienceKeyBytes } from "./Ids.js"
import { describeValue, type SegmentEvent } from "./SegmentEvent.js"

const maxAudienceKeyLength = 255
/** More addresses than any person has; beyond it the event is a mistake or an attack. */
export const maxEmailsPerEvent = 100
const isoDate = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i

// Own properties only: input keys such as "__proto__" or "constructor" are data, never followed.
export const own = (o: unknown, key: string): unknown =>
  typeof o === "object" && o !== null && !Array.isArray(o) && Object.prototype.hasOwnProperty.call(o, key)
    ? (o as Readonly<Record<string, unknown>>)[key]
    : undefined

export const present = (value: string | number | null | undefined): string | undefined =>
  value === undefined || value === null || value === "" ? undefined : String(value)

export type EventType = SegmentEvent["type"]

/** The key as sent (to find the membership field) and as stored (trimmed, branded). */
export const audienceKeyOf = (event: SegmentEvent): Either.Either<{ readonly raw: string; readonly key: AudienceKey }, string> => {
  const fallback = (holder: "properties" | "traits") => {
    const value = own(event[holder], "audience_key")
    return typeof value === "string" && value !== "" ? value : undefined
  }
  const raw = present(event.context?.personas?.computation_key) ?? fallback("properties") ?? fallback("traits")
  const key = raw?.trim()
  if (raw === undefined || key === undefined || key === "") {
    return Either.left("no audience key (context.personas.computation_key, properties.audience_key or traits.audience_key)")
  }
  if (key.length > maxAudienceKeyLength) return Either.left(`audience key is longer than ${maxAudienceKeyLength} characters`)
  const bytes = encodedAudienceKeyBytes(key)
  return bytes > maxEncodedAudienceKeyBytes
    ? Either.left(
      `audience key takes ${bytes} bytes once percent-encoded for storage; at most ${maxEncodedAudienceKeyBytes} fit within Workers KV's 512-byte key limit`
    )
    : Either.right({ raw, key: key as AudienceKey })
}

export const membershipOf = (event: SegmentEvent, type: EventType, key: string): Either.Either<boolean, string> => {
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
export const userOf = (event: SegmentEvent): Either.Either<string, string> => {
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

/**
 * How far ahead of its arrival an event may be stamped. Membership is last-writer-wins by event
 * time, so one event from the far future would fix a membership for good.
 */
export const maxFutureMillis = 24 * 60 * 60 * 1_000

export const timestampOf = (event: SegmentEvent, receivedAt: number): Either.Either<number, string> => {
  for (const name of ["timestamp", "originalTimestamp", "sentAt"] as const) {
    const value = event[name]
    if (value === undefined || value === null) continue
    const millis = typeof value === "string" ? parseIsoDate(value) : undefined
    if (millis === undefined) return Either.left(`${name} ${describeValue(value)} is not an ISO 8601 date`)
    return millis > receivedAt + maxFutureMillis
      ? Either.left(`${name} ${value} is more than 24 hours after the event arrived (${new Date(receivedAt).toISOString()})`)
      : Either.right(millis)
  }
  return Either.right(Math.trunc(receivedAt))
}

export const externalListIdOf = (event: SegmentEvent): ListId | undefined => {
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

export interface Emails {
  readonly valid: ReadonlyArray<Email>
  readonly problems: ReadonlyArray<string>
}

/** Every distinct normalised email of the event, and a reason for each value that is not one. */
export const emailsOf = (event: SegmentEvent, type: EventType): Either.Either<Emails, string> => {
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
