// The shape of one raw Segment event, as far as the sync reads it. Only the fields the rules need
// are declared; everything else is ignored. Each field carries a message that names it, so a
// rejection tells the sender exactly which field was wrong and what it held.
// `traits` and `properties` stay opaque objects: the audience key decides which of their fields
// matters, and they are read by own-property lookup only (core/1-events/EventDecoder.ts).
import { Either, ParseResult, Schema } from "effect"

/** Longest id or key the sync stores (userId, anonymousId, messageId, audience keys, event names). */
export const maxIdLength = 1_000

/** A short JSON rendering of a value for a message; never throws. */
export const describeValue = (value: unknown): string => {
  let text: string
  try {
    text = value === undefined ? "undefined" : typeof value === "bigint" ? `${value}n` : JSON.stringify(value) ?? String(value)
  } catch {
    text = Array.isArray(value) ? "an array" : typeof value
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text
}

// `override`: the field's own sentence wins over the inner messages of unions and refinements.
const says = (sentence: (actual: string) => string) => ({
  message: (issue: ParseResult.ParseIssue) => ({ message: sentence(describeValue(issue.actual)), override: true })
})
const mustBe = (name: string, expected: string) => says((actual) => `${name} must be ${expected}, got ${actual}`)
// For structs: their own message only when the value is not an object at all; inner fields speak
// for themselves.
const mustBeObject = (name: string) => ({
  message: (issue: ParseResult.ParseIssue) => `${name} must be ${name === "the event" ? "a JSON object" : "an object"}, got ${describeValue(issue.actual)}`
})

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** Any JSON object, kept as given: read it with `own` below, never spread or assign from it. */
const opaqueObject = (name: string) =>
  Schema.declare(isRecord, mustBe(name, "an object"))

/** A string or a number (Segment lets ids be either), at most `maxIdLength` characters as text. */
const idLike = (name: string) =>
  Schema.Union(Schema.String, Schema.Number.pipe(Schema.finite())).annotations(mustBe(name, "a string or a number")).pipe(
    Schema.filter((value) => String(value).length <= maxIdLength, {
      message: () => `${name} is longer than ${maxIdLength} characters`
    })
  )

const text = (name: string) =>
  Schema.String.annotations(mustBe(name, "a string")).pipe(
    Schema.maxLength(maxIdLength, { message: () => `${name} is longer than ${maxIdLength} characters` })
  )

/** Optional, and `null` means absent (senders write either). */
const absentOr = <S extends Schema.Schema.Any>(schema: S) => Schema.optional(Schema.NullOr(schema))

const Personas = Schema.Struct({
  computation_key: absentOr(text("context.personas.computation_key")),
  computation_class: absentOr(
    Schema.Literal("audience", "journey_step").annotations(
      says((actual) => `context.personas.computation_class ${actual} is not "audience" or "journey_step"`)
    )
  ),
  external_audience_id: absentOr(
    Schema.Union(
      Schema.Number.pipe(Schema.int(), Schema.positive(), Schema.lessThanOrEqualTo(Number.MAX_SAFE_INTEGER)),
      // Digits only, and a safe integer: a 16-digit id would lose its last digits as a number.
      Schema.String.pipe(Schema.pattern(/^[1-9][0-9]{0,15}$/), Schema.filter((digits) => Number(digits) <= Number.MAX_SAFE_INTEGER))
    ).annotations(
      says((actual) => `context.personas.external_audience_id ${actual} is not a Marketo list id (a positive integer)`)
    )
  )
}).annotations(mustBeObject("context.personas"))

const Context = Schema.Struct({
  personas: absentOr(Personas),
  traits: absentOr(opaqueObject("context.traits")),
  externalIds: absentOr(Schema.Array(Schema.Unknown).annotations(mustBe("context.externalIds", "an array")))
}).annotations(mustBeObject("context"))

export const SegmentEvent = Schema.Struct({
  // First, so an event of another type is named as such before its other fields are judged.
  type: Schema.Literal("identify", "track").annotations(says((actual) => `unsupported event type ${actual}`)),
  event: absentOr(text("event")),
  userId: absentOr(idLike("userId")),
  anonymousId: absentOr(idLike("anonymousId")),
  messageId: absentOr(idLike("messageId")),
  timestamp: absentOr(Schema.Unknown),
  originalTimestamp: absentOr(Schema.Unknown),
  sentAt: absentOr(Schema.Unknown),
  traits: absentOr(opaqueObject("traits")),
  properties: absentOr(opaqueObject("properties")),
  context: absentOr(Context)
}).annotations(mustBeObject("the event"))
export type SegmentEvent = typeof SegmentEvent.Type

const pathText = (path: ReadonlyArray<PropertyKey>): string =>
  path.reduce<string>(
    (out, key) => typeof key === "number" ? `${out}[${key}]` : out === "" ? String(key) : `${out}.${String(key)}`,
    ""
  )

const decode = Schema.decodeUnknownEither(SegmentEvent, { errors: "first", onExcessProperty: "ignore" })

/**
 * Decodes the fields the sync reads. Left is one readable reason: the first problem, naming the
 * field (`userId must be a string or a number, got {}`, `timestamp is missing`).
 */
export const decodeSegmentEvent = (input: unknown): Either.Either<SegmentEvent, string> =>
  Either.mapLeft(decode(input), (error) => {
    const [first] = ParseResult.ArrayFormatter.formatErrorSync(error)
    if (first === undefined) return "the event could not be read"
    if (first._tag === "Missing") return `${pathText(first.path)} is missing`
    // Every declared field carries its own message naming it; a path prefix would repeat the name.
    return first.message
  })
