// Lead field values as an email's ledger record keeps them: per Marketo field, the latest value
// and the event time that set it. Last writer wins per field by (time, then value), so folding is
// commutative and idempotent here too; an event without a value for a field leaves it as it was
// (an empty value never blanks a field). A record also says whether a value changed since the
// fields were last sent to Marketo (`fieldsPending`); a send clears it only while the fields are
// still the ones sent, named by a digest of their values and times. A field's (time, value) only
// ever moves forward, so fields never return to a state already sent, and a send journaled before
// a newer change (replayed after a stopped tick) never hides that change.
import { Schema } from "effect"
import type { LeadFieldValues } from "../1-events/LeadFields.js"

/** [value, event time]. */
export const StoredField = Schema.Tuple(Schema.String, Schema.Number)
export const StoredFields = Schema.Record({ key: Schema.String, value: StoredField })
export type StoredFields = typeof StoredFields.Type

const hasOwn = (o: object, key: string) => Object.prototype.hasOwnProperty.call(o, key)

/** The stored form of one event's values. */
export const storedFieldsOf = (values: LeadFieldValues, at: number): StoredFields => {
  const out: Record<string, readonly [string, number]> = {}
  for (const name of Object.keys(values)) out[name] = [values[name]!, at]
  return out
}

export interface MergedFields {
  readonly fields: StoredFields
  /** A field now holds a value it did not hold before (not only a newer time for the same value). */
  readonly valueChanged: boolean
}

/** `incoming` (set at `at`) merged into `stored`; undefined when it changes nothing. */
export const mergeFields = (stored: StoredFields | undefined, incoming: LeadFieldValues, at: number): MergedFields | undefined => {
  let out: Record<string, readonly [string, number]> | undefined
  let valueChanged = false
  for (const name of Object.keys(incoming)) {
    const value = incoming[name]!
    const current = stored !== undefined && hasOwn(stored, name) ? stored[name] : undefined
    if (current !== undefined) {
      const [was, time] = current
      if (time > at || (time === at && was >= value)) continue
      if (was !== value) valueChanged = true
    } else valueChanged = true
    out ??= { ...stored }
    out[name] = [value, at]
  }
  return out === undefined ? undefined : { fields: out, valueChanged }
}

/** The values alone. */
export const fieldValues = (fields: StoredFields | undefined): Record<string, string> => {
  const out: Record<string, string> = {}
  if (fields !== undefined) for (const name of Object.keys(fields)) out[name] = fields[name]![0]
  return out
}

/** The latest time any field was set (0 without fields). */
export const latestFieldTime = (fields: StoredFields | undefined): number => {
  let latest = 0
  if (fields !== undefined) for (const name of Object.keys(fields)) latest = Math.max(latest, fields[name]![1])
  return latest
}

/** 32-bit FNV-1a of the values and their times by field name, as 8 hex digits: names what was sent. */
export const fieldsDigest = (fields: StoredFields | undefined): string => {
  let hash = 0x811c9dc5
  const mix = (text: string) => {
    for (let i = 0; i < text.length; i++) {
      hash ^= text.charCodeAt(i)
      hash = Math.imul(hash, 0x01000193)
    }
  }
  for (const name of Object.keys(fields ?? {}).sort()) {
    mix(name)
    mix("\u0000")
    mix(fields![name]![0])
    mix("\u0001")
    mix(String(fields![name]![1]))
    mix("\u0002")
  }
  return (hash >>> 0).toString(16).padStart(8, "0")
}

/** The values of the fields Marketo may be sent, in `send` order; undefined when none has a value. */
export const sendableFields = (fields: StoredFields | undefined, send: ReadonlyArray<string>): Record<string, string> | undefined => {
  if (fields === undefined) return undefined
  let out: Record<string, string> | undefined
  for (const name of send) if (hasOwn(fields, name)) (out ??= {})[name] = fields[name]![0]
  return out
}
