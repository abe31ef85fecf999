// What the planner is given for one audience: the emails to add and remove (with lead ids when the
// cache knows them, and the lead field values their leads are sent), the members whose field
// values changed since they were sent, and where the list stands.
import type { Email } from "../1-events/Email.js"
import type { AudienceKey, ImportBatchId, LeadId, ListId } from "../1-events/Ids.js"
import type { ImportRef } from "../2-ledger/ImportsInFlight.js"

/** The lead field values an email's lead is sent with (core/2-ledger/LeadFieldRecord.ts). */
export interface PlannedFields {
  /** The values of the fields the instance accepts, in the configured order; never empty. */
  readonly values: Readonly<Record<string, string>>
  /** When the newest of the email's fields was set: the newest wins where audiences disagree. */
  readonly at: number
  /** Digest of the email's stored fields: the send's checkpoint clears the pending mark with it. */
  readonly digest: string
}

export interface PlannedEmail {
  readonly email: Email
  /** Known from the lead-id cache; several when Marketo holds duplicate leads for the email. */
  readonly leadIds?: ReadonlyArray<LeadId>
  readonly fields?: PlannedFields
  /** An import refused this email's row: it goes by upsert + add, never by import again. */
  readonly importFailed?: boolean
}

/** An import whose answer was lost, due to be looked for on the list now. */
export interface ImportCheck {
  readonly ref: ImportRef
  readonly sample: ReadonlyArray<Email>
  readonly giveUpAt: number
}

export interface AudienceDelta {
  readonly audience: AudienceKey
  readonly listName: string
  readonly folderName: string
  /** The list, once ensured. */
  readonly listId?: ListId
  /** A list the sender named (context.personas.external_audience_id). */
  readonly externalListId?: ListId
  readonly add: ReadonlyArray<PlannedEmail>
  readonly remove: ReadonlyArray<PlannedEmail>
  /** On the list, with lead field values changed since they were sent (MARKETO_LEAD_FIELDS_UPDATE=always). */
  readonly update?: ReadonlyArray<PlannedEmail>
  /** Imports started on an earlier tick and not yet confirmed (those due to be polled now). */
  readonly pendingImports: ReadonlyArray<ImportBatchId>
  /** Imports whose answer was lost, due to be looked for now. */
  readonly importChecks?: ReadonlyArray<ImportCheck>
}

/** The values each email of `emails` is sent with. */
export const fieldsOfPlanned = (emails: ReadonlyArray<PlannedEmail>) => {
  const values = new Map<Email, Readonly<Record<string, string>>>()
  for (const e of emails) if (e.fields !== undefined) values.set(e.email, e.fields.values)
  return (email: Email) => values.get(email)
}
