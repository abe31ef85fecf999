// What a tick is told about lead fields (MARKETO_LEAD_FIELDS, MARKETO_LEAD_FIELDS_UPDATE), and an
// email's fields as a plan sends them: the values of the fields the instance accepts, when they
// were set, and the digest the send's checkpoint clears the pending mark with.
import type { Email } from "../1-events/Email.js"
import { fieldsDigest, latestFieldTime, sendableFields } from "../2-ledger/LeadFieldRecord.js"
import { isDesired, wantsFieldUpdate } from "../2-ledger/Ledger.js"
import type { EmailRecord, LedgerShard } from "../2-ledger/LedgerShard.js"
import type { PlannedFields } from "../3-plan/PlannedEmail.js"

export interface LeadFieldSettings {
  /** The mapped fields the instance accepts (checked against its describe2), in the configured order. */
  readonly send: ReadonlyArray<string>
  /** "on-add": values go with the adds only; "always": changed values of members on a list are sent too. */
  readonly update: "on-add" | "always"
}

/** Whether changed values of members already on a list are sent (there being a field to send). */
export const sendsUpdates = (settings: LeadFieldSettings | undefined): boolean =>
  settings !== undefined && settings.update === "always" && settings.send.length > 0

/** The email's fields as a plan sends them; none when the record has no fields or nothing is sent. */
export const plannedFields = (record: EmailRecord | undefined, settings: LeadFieldSettings | undefined): PlannedFields | undefined => {
  const fields = record?.fields
  if (fields === undefined || settings === undefined || settings.send.length === 0) return undefined
  return { values: sendableFields(fields, settings.send) ?? {}, at: latestFieldTime(fields), digest: fieldsDigest(fields) }
}

/** The emails of a shard whose changed fields are to be sent, sorted. */
export const fieldUpdatesOf = (shard: LedgerShard): ReadonlyArray<Email> => {
  const out: Array<Email> = []
  const emails = shard.emails
  for (const email of Object.keys(emails)) {
    const record = emails[email]!
    if (record.fieldsPending === true && wantsFieldUpdate(record, isDesired(record))) out.push(email as Email)
  }
  return out.sort()
}
