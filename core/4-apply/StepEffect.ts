// What an applied step changed, as data. The interpreter returns these; the sync journals them
// after every step (the checkpoint) and applies them to the ledger shards. Replaying a journal
// left by a stopped tick gives the same shards, because every effect is idempotent.
import { Schema } from "effect"
import { Email } from "../1-events/Email.js"
import { FolderId, ImportBatchId, LeadId, ListId } from "../1-events/Ids.js"

export const ListEnsured = Schema.TaggedStruct("ListEnsured", { listId: ListId, folderId: Schema.optional(FolderId) })
export const LeadIdsLearned = Schema.TaggedStruct("LeadIdsLearned", {
  ids: Schema.Array(Schema.Struct({ email: Email, leadIds: Schema.Array(LeadId) }))
})
export const EmailsRefused = Schema.TaggedStruct("EmailsRefused", {
  refused: Schema.Array(Schema.Struct({ email: Email, code: Schema.String }))
})
export const MembershipConfirmed = Schema.TaggedStruct("MembershipConfirmed", { emails: Schema.Array(Email), synced: Schema.Boolean })
export const ImportStarted = Schema.TaggedStruct("ImportStarted", { batchIds: Schema.Array(ImportBatchId), emails: Schema.Array(Email) })
export const ImportEnded = Schema.TaggedStruct("ImportEnded", {
  batchId: ImportBatchId,
  status: Schema.Literal("Complete", "Failed"),
  failed: Schema.Array(Schema.Struct({ email: Email, code: Schema.String }))
})

/** Lead field values were sent for these emails: each digest names the stored fields sent. */
export const FieldsSent = Schema.TaggedStruct("FieldsSent", {
  sent: Schema.Array(Schema.Struct({ email: Email, digest: Schema.String }))
})

export const StepEffect = Schema.Union(ListEnsured, LeadIdsLearned, EmailsRefused, MembershipConfirmed, ImportStarted, ImportEnded, FieldsSent)
export type StepEffect = typeof StepEffect.Type

export const Journal = Schema.Array(StepEffect)
export const JournalJson = Schema.parseJson(Journal)
