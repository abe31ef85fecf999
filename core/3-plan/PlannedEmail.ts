// What the planner is given for one audience: the emails to add and remove (with lead ids when the
// cache knows them), and where the list stands.
import type { Email } from "../1-events/Email.js"
import type { AudienceKey, ImportBatchId, LeadId, ListId } from "../1-events/Ids.js"
import type { ImportRef } from "../2-ledger/ImportsInFlight.js"

export interface PlannedEmail {
  readonly email: Email
  /** Known from the lead-id cache; several when Marketo holds duplicate leads for the email. */
  readonly leadIds?: ReadonlyArray<LeadId>
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
  /** Imports started on an earlier tick and not yet confirmed (those due to be polled now). */
  readonly pendingImports: ReadonlyArray<ImportBatchId>
  /** Imports whose answer was lost, due to be looked for now. */
  readonly importChecks?: ReadonlyArray<ImportCheck>
}
