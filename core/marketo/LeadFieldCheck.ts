// The mapped lead fields checked against the instance's own (describe2): a name Marketo does not
// know, or a field only Marketo writes, is a configuration problem named by field; the other
// fields are sent. The check is data, kept by the worker between ticks.
import type { LeadFieldInfo } from "../ports/MarketoApi.js"

export interface LeadFieldCheck {
  /** The mapped field names that were checked, sorted. */
  readonly fields: ReadonlyArray<string>
  /** Names the instance has no field for, with the field of the same name in another case, if any. */
  readonly unknown: ReadonlyArray<{ readonly name: string; readonly suggestion?: string }>
  /** Names of fields only Marketo writes (describe2's `updateable: false`). */
  readonly readOnly: ReadonlyArray<string>
  /** Epoch ms. */
  readonly checkedAt: number
}

/** A check with problems is made again after this long, so a field created in Marketo is picked up. */
export const recheckProblemsAfterMillis = 60 * 60_000

export const checkLeadFields = (mapped: ReadonlyArray<string>, described: ReadonlyArray<LeadFieldInfo>, now: number): LeadFieldCheck => {
  const byName = new Map(described.map((f) => [f.name, f]))
  const byLowerName = new Map(described.map((f) => [f.name.toLowerCase(), f.name]))
  const unknown: Array<{ name: string; suggestion?: string }> = []
  const readOnly: Array<string> = []
  for (const name of mapped) {
    const field = byName.get(name)
    if (field === undefined) {
      const suggestion = byLowerName.get(name.toLowerCase())
      unknown.push({ name, ...(suggestion === undefined ? {} : { suggestion }) })
    } else if (!field.updateable) readOnly.push(name)
  }
  return { fields: [...mapped].sort(), unknown, readOnly, checkedAt: now }
}

/** Whether a check still stands for these mapped fields at `now`. */
export const checkStands = (check: LeadFieldCheck | null | undefined, mapped: ReadonlyArray<string>, now: number): check is LeadFieldCheck => {
  if (check === null || check === undefined) return false
  const same = check.fields.length === mapped.length && [...mapped].sort().every((name, i) => check.fields[i] === name)
  const clean = check.unknown.length === 0 && check.readOnly.length === 0
  return same && (clean || now - check.checkedAt < recheckProblemsAfterMillis)
}

/** The mapped fields that may be sent, in the configured order. */
export const acceptedFields = (mapped: ReadonlyArray<string>, check: LeadFieldCheck): ReadonlyArray<string> => {
  const refused = new Set([...check.unknown.map((u) => u.name), ...check.readOnly])
  return mapped.filter((name) => !refused.has(name))
}

/** One sentence per field that is not sent, naming the setting and the field. */
export const fieldCheckProblems = (check: LeadFieldCheck): ReadonlyArray<string> => [
  ...check.unknown.map((u) =>
    `MARKETO_LEAD_FIELDS: ${u.name} is not a lead field of this Marketo instance${u.suggestion === undefined ? "" : ` (did you mean ${u.suggestion}?)`}; it is not sent (Admin → Field Management lists the fields; use the REST API name)`
  ),
  ...check.readOnly.map((name) => `MARKETO_LEAD_FIELDS: ${name} is read-only in Marketo; it is not sent`)
]
