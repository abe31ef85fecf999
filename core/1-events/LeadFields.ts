// Which Marketo lead fields carry which of the member's traits, and reading their values from one
// event. The mapping is a setting (MARKETO_LEAD_FIELDS: comma-separated `marketoField=trait`
// pairs, a trait with fallbacks as `trait|other`); the core is handed it parsed. Values are read
// from the event's traits (identify) or `context.traits` (track): strings trimmed, numbers and
// booleans as text, at most `maxFieldValueLength` characters; an empty or absent value is no value,
// so it never blanks a field in Marketo.
import { Either, Schema } from "effect"

/** A Marketo REST field name: a letter, then letters, digits or underscores. */
const fieldNamePattern = /^[A-Za-z][A-Za-z0-9_]{0,99}$/

/** Names no mapping may use: the lookup field and the lead id are Marketo's, not a trait's. */
const reservedFields = new Set(["email", "id"])

/** A name that is safe as an object key (not one of Object.prototype's). */
const isPlainKey = (name: string) => !(name in Object.prototype)

export const LeadFieldName = Schema.String.pipe(
  Schema.pattern(fieldNamePattern),
  Schema.filter(isPlainKey, { message: () => "a lead field name may not be a name JavaScript objects already have" })
)

/** Values by Marketo field name: only mapped fields that had a value. */
export const LeadFieldValues = Schema.Record({ key: LeadFieldName, value: Schema.String })
export type LeadFieldValues = typeof LeadFieldValues.Type

export interface FieldMapping {
  /** The Marketo REST API field name (describe2's `name`), e.g. `firstName`. */
  readonly field: string
  /** Trait names in order of preference: the first with a value wins. */
  readonly traits: ReadonlyArray<string>
}
export type LeadFieldMapping = ReadonlyArray<FieldMapping>

/** Segment's spec trait names for the two fields every marketer's first email uses. */
export const defaultLeadFieldsSetting = "firstName=firstName,lastName=lastName"

/** More than a sync of names and a few attributes needs; each is stored per email. */
export const maxLeadFields = 20
/** Marketo's string fields hold 255 characters; longer values are cut there. */
export const maxFieldValueLength = 255
const maxTraitLength = 255

/**
 * `firstName=firstName|first_name,lastName=lastName`, or `none` for no fields. Left is a sentence
 * naming the pair that is wrong (never more of the value than the pair).
 */
export const parseLeadFieldMapping = (text: string): Either.Either<LeadFieldMapping, string> => {
  const trimmed = text.trim()
  if (trimmed.toLowerCase() === "none") return Either.right([])
  const pairs = trimmed.split(",").map((p) => p.trim())
  if (pairs.length > maxLeadFields) return Either.left(`maps ${pairs.length} fields; at most ${maxLeadFields} are allowed`)
  const mapping: Array<FieldMapping> = []
  const traitsSeen = new Map<string, string>()
  for (const pair of pairs) {
    const quoted = JSON.stringify(pair.length > 60 ? `${pair.slice(0, 57)}...` : pair)
    const at = pair.indexOf("=")
    if (at < 0) return Either.left(`${quoted} is not a marketoField=trait pair`)
    const field = pair.slice(0, at).trim()
    const traits = pair.slice(at + 1).split("|").map((t) => t.trim())
    if (!fieldNamePattern.test(field) || !isPlainKey(field)) {
      return Either.left(`${quoted}: "${field.slice(0, 40)}" is not a Marketo REST field name (a letter, then letters, digits or _)`)
    }
    if (reservedFields.has(field.toLowerCase())) return Either.left(`${quoted}: ${field} is not mappable (the sync sets it itself)`)
    if (mapping.some((m) => m.field === field)) return Either.left(`${quoted}: ${field} is mapped twice`)
    for (const trait of traits) {
      if (trait === "" || trait.length > maxTraitLength || trait.includes("=")) {
        return Either.left(`${quoted}: each trait must be 1 to ${maxTraitLength} characters, without "="`)
      }
      const other = traitsSeen.get(trait)
      if (other !== undefined) return Either.left(`${quoted}: trait "${trait.slice(0, 40)}" is already mapped to ${other}; map each trait once`)
      traitsSeen.set(trait, field)
    }
    mapping.push({ field, traits })
  }
  return Either.right(mapping)
}

const own = (o: unknown, key: string): unknown =>
  typeof o === "object" && o !== null && !Array.isArray(o) && Object.prototype.hasOwnProperty.call(o, key)
    ? (o as Readonly<Record<string, unknown>>)[key]
    : undefined

/** A trait by name; `address.city` also reaches into Segment's nested spec traits. */
const traitOf = (traits: unknown, name: string): unknown => {
  const direct = own(traits, name)
  if (direct !== undefined || !name.includes(".")) return direct
  return name.split(".").reduce<unknown>((at, part) => own(at, part), traits)
}

/** At most `maxFieldValueLength` characters, never cutting a character in two. */
const bounded = (value: string): string => {
  if (value.length <= maxFieldValueLength) return value
  return Array.from(value).slice(0, maxFieldValueLength).join("")
}

/** A trait's value as a field value: text trimmed, numbers and booleans as text; nothing else. */
export const fieldValueOf = (value: unknown): string | undefined => {
  let text: string | undefined
  if (typeof value === "string") text = value.trim()
  else if (typeof value === "number" && Number.isFinite(value)) text = String(value)
  else if (typeof value === "boolean") text = String(value)
  return text === undefined || text === "" ? undefined : bounded(text)
}

/** The mapped values of one event's traits, by Marketo field name; undefined when none has a value. */
export const fieldValuesOf = (traits: unknown, mapping: LeadFieldMapping): LeadFieldValues | undefined => {
  if (mapping.length === 0 || typeof traits !== "object" || traits === null) return undefined
  let values: Record<string, string> | undefined
  for (const { field, traits: names } of mapping) {
    for (const name of names) {
      const value = fieldValueOf(traitOf(traits, name))
      if (value === undefined) continue
      ;(values ??= {})[field] = value
      break
    }
  }
  return values
}
