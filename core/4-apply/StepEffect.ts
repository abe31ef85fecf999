// What an applied step changed, as data. The interpreter returns these; the sync journals them
// after every step (the checkpoint) and applies them to the ledger shards. Replaying a journal
// left by a stopped tick gives the same shards, because every effect is idempotent.
import { Schema } from "effect"
import { Email } from "../1-events/Email.js"
import { FolderId, ImportBatchId, LeadId, ListId } from "../1-events/Ids.js"
import { ImportId, ImportRef } from "../2-ledger/ImportsInFlight.js"

export const ListEnsured = Schema.TaggedStruct("ListEnsured", { listId: ListId, folderId: Schema.optional(FolderId) })
export const LeadIdsLearned = Schema.TaggedStruct("LeadIdsLearned", {
  ids: Schema.Array(Schema.Struct({ email: Email, leadIds: Schema.Array(LeadId) }))
})
export const EmailsRefused = Schema.TaggedStruct("EmailsRefused", {
  refused: Schema.Array(Schema.Struct({ email: Email, code: Schema.String }))
})
export const MembershipConfirmed = Schema.TaggedStruct("MembershipConfirmed", { emails: Schema.Array(Email), synced: Schema.Boolean })
/**
 * Journaled before an import is sent (its answer may be lost, the tick may stop): its rows are
 * marked with `ref` until Marketo's batch id replaces it, or the sync finds out what became of it.
 */
export const ImportSending = Schema.TaggedStruct("ImportSending", { ref: ImportRef, emails: Schema.Array(Email), at: Schema.Number })
/** Marketo took the import: its batch id replaces the reference `ref` (absent in journals of earlier versions). */
export const ImportStarted = Schema.TaggedStruct("ImportStarted", {
  batchIds: Schema.Array(ImportBatchId),
  emails: Schema.Array(Email),
  ref: Schema.optional(ImportRef),
  at: Schema.optional(Schema.Number)
})
/**
 * One tick's rows added to the audience's staged file as part `part` (its CSV rows written under
 * StateKeys.stagedPart before this is journaled): the rows are marked with `ref`. `bytes` is what
 * the part adds to the file (the header too for part 0).
 */
export const ImportStaged = Schema.TaggedStruct("ImportStaged", {
  ref: ImportRef,
  part: Schema.Number,
  emails: Schema.Array(Email),
  bytes: Schema.Number,
  columns: Schema.Array(Schema.String),
  at: Schema.Number
})
/** Journaled before the staged file `ref` is sent: it becomes an import in flight, its answer not known yet. */
export const StagedSending = Schema.TaggedStruct("StagedSending", { ref: ImportRef, at: Schema.Number })
/** Marketo took the staged file `ref`: its batch id, polled from now on (the rows stay marked with `ref`). */
export const StagedStarted = Schema.TaggedStruct("StagedStarted", { ref: ImportRef, batchId: ImportBatchId })
/** The parts of the staged file `ref` were deleted from the store. */
export const StagedPartsDeleted = Schema.TaggedStruct("StagedPartsDeleted", { ref: ImportRef })
/** Marketo refused the import in its envelope: nothing ran, the rows are free to plan again. */
export const ImportNotSent = Schema.TaggedStruct("ImportNotSent", { ref: ImportRef })
/** An unconfirmed import's sample was checked and none of it is on the list yet. */
export const ImportChecked = Schema.TaggedStruct("ImportChecked", { ref: ImportRef, at: Schema.Number })
/**
 * An import ended (found Complete or Failed by its poll, or, for an unconfirmed one, its sample
 * found on the list or given up on). Rows in `failed` were refused by the import and are sent by
 * upsert + add instead.
 */
export const ImportEnded = Schema.TaggedStruct("ImportEnded", {
  batchId: ImportId,
  /** A staged file's import: its rows are marked with this reference rather than the batch id. */
  ref: Schema.optional(ImportRef),
  status: Schema.Literal("Complete", "Failed"),
  failed: Schema.Array(Schema.Struct({ email: Email, code: Schema.String }))
})
/** The audience's list is gone from Marketo (deleted by a person: 1013): every member is to be added to a new one. */
export const ListLost = Schema.TaggedStruct("ListLost", { listId: ListId, at: Schema.Number })

/** Lead field values were sent for these emails: each digest names the stored fields sent. */
export const FieldsSent = Schema.TaggedStruct("FieldsSent", {
  sent: Schema.Array(Schema.Struct({ email: Email, digest: Schema.String }))
})

export const StepEffect = Schema.Union(
  ListEnsured,
  LeadIdsLearned,
  EmailsRefused,
  MembershipConfirmed,
  ImportSending,
  ImportStarted,
  ImportStaged,
  StagedSending,
  StagedStarted,
  StagedPartsDeleted,
  ImportNotSent,
  ImportChecked,
  ImportEnded,
  ListLost,
  FieldsSent
)
export type StepEffect = typeof StepEffect.Type

export const Journal = Schema.Array(StepEffect)
export const JournalJson = Schema.parseJson(Journal)

/**
 * A journal entry as stored. No field of a step effect transforms, so JSON.stringify writes what
 * encoding through the schema would (test/core/4-apply/JournalEncoding.test.ts pins it): the
 * effects are the product's own, and re-validating every email of every step was a tenth of a
 * large churn tick's time. Reading still decodes through the schema.
 */
export const encodeJournal = (effects: ReadonlyArray<StepEffect>): string => JSON.stringify(effects)
