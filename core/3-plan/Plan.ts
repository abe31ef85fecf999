// A sync plan is plain data: the steps that make one audience's Marketo list right, in order.
// No functions inside, so a plan encodes to JSON losslessly (stored, shown as a dry run, costed).
// Steps name emails, not lead ids: the interpreter resolves ids from the audience's lead-id cache,
// which UpsertLeads and LookupLeads fill earlier in the same plan. Limits live in the schema.
import { Schema } from "effect"
import { Email } from "../1-events/Email.js"
import { AudienceKey, ImportBatchId, ListId } from "../1-events/Ids.js"
import { ImportRef } from "../2-ledger/ImportsInFlight.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"

const Batch = Schema.Array(Email).pipe(Schema.minItems(1), Schema.maxItems(MarketoLimits.batchSize))

/** Find the configured folder (one call); fails the plan if it is missing or of the wrong type. */
export class EnsureFolder extends Schema.TaggedClass<EnsureFolder>()("EnsureFolder", {
  folderName: Schema.String.pipe(Schema.minLength(1))
}) {}

/**
 * Make sure the audience has its list: use `listId` when the sender named one and it is in the
 * folder (one call to check), else adopt a list of `listName` already in the folder, else create it
 * (one or two calls).
 */
export class EnsureList extends Schema.TaggedClass<EnsureList>()("EnsureList", {
  audience: AudienceKey,
  listName: Schema.String.pipe(Schema.minLength(1), Schema.maxLength(255)),
  folderName: Schema.String.pipe(Schema.minLength(1)),
  listId: Schema.optional(ListId)
}) {}

/** Learn the lead ids of emails (one call; POST with `_method=GET` when the URI would pass 8 KB). */
export class LookupLeads extends Schema.TaggedClass<LookupLeads>()("LookupLeads", {
  audience: AudienceKey,
  emails: Batch,
  method: Schema.Literal("GET", "POST")
}) {}

/** Create or update leads by email, with their lead field values, learning their ids (one call). */
export class UpsertLeads extends Schema.TaggedClass<UpsertLeads>()("UpsertLeads", {
  audience: AudienceKey,
  emails: Batch
}) {}

/**
 * Send the changed lead field values of members already on the list (one call: an upsert by
 * email). The values are the ledger's; the step names the emails only.
 */
export class UpdateLeads extends Schema.TaggedClass<UpdateLeads>()("UpdateLeads", {
  audience: AudienceKey,
  emails: Batch
}) {}

/** Add the leads of these emails to the audience's list (one call). */
export class AddToList extends Schema.TaggedClass<AddToList>()("AddToList", {
  audience: AudienceKey,
  emails: Batch
}) {}

/** Remove the leads of these emails from the audience's list (one call). */
export class RemoveFromList extends Schema.TaggedClass<RemoveFromList>()("RemoveFromList", {
  audience: AudienceKey,
  emails: Batch
}) {}

/**
 * Bulk import these emails, with their lead field values, into the list (one call; the CSV stays
 * under 10 MB, and every row of a file carries the same fields).
 */
export class ImportLeads extends Schema.TaggedClass<ImportLeads>()("ImportLeads", {
  audience: AudienceKey,
  emails: Schema.Array(Email).pipe(Schema.minItems(1)),
  csvBytes: Schema.Number.pipe(Schema.int(), Schema.positive(), Schema.lessThanOrEqualTo(MarketoLimits.maxImportFileBytes))
}) {}

/**
 * Add these rows (one set of lead fields, `columns` after `email`) to the audience's staged import
 * file as one more part (no call): `csvBytes` is the UTF-8 size of the rows alone. Skipped when
 * the file staged then carries other columns or has no room for them: the rows wait.
 */
export class StageRows extends Schema.TaggedClass<StageRows>()("StageRows", {
  audience: AudienceKey,
  emails: Schema.Array(Email).pipe(Schema.minItems(1)),
  columns: Schema.Array(Schema.String),
  csvBytes: Schema.Number.pipe(Schema.int(), Schema.positive(), Schema.lessThanOrEqualTo(MarketoLimits.maxImportFileBytes))
}) {}

/**
 * Send the audience's staged file as one bulk import into the list (one call, its parts streamed),
 * then poll it like any import. Skipped while another import into the list is in flight (1019).
 */
export class SendStaged extends Schema.TaggedClass<SendStaged>()("SendStaged", {
  audience: AudienceKey,
  /** Why it goes now (logged with the send, so a part-full file says what sent it). */
  why: Schema.Literal("full", "other columns", "nothing more waits", "latency target")
}) {}

/** Ask how a running import is doing (one call); on Complete its emails count as synced. */
export class PollImport extends Schema.TaggedClass<PollImport>()("PollImport", {
  audience: AudienceKey,
  batchId: ImportBatchId
}) {}

/**
 * Find out what became of an import whose answer was lost (one lookup of a sample of its rows,
 * one membership check): some of them on the list, it ran; none by `giveUpAt`, it did not, and
 * its rows are planned again; else look again later.
 */
export class FindImport extends Schema.TaggedClass<FindImport>()("FindImport", {
  audience: AudienceKey,
  ref: ImportRef,
  sample: Batch,
  giveUpAt: Schema.Number
}) {}

export const Step = Schema.Union(
  EnsureFolder,
  EnsureList,
  LookupLeads,
  UpsertLeads,
  AddToList,
  RemoveFromList,
  ImportLeads,
  PollImport,
  UpdateLeads,
  FindImport,
  StageRows,
  SendStaged
)
export type Step = typeof Step.Type

export class Plan extends Schema.Class<Plan>("Plan")({
  audience: AudienceKey,
  steps: Schema.Array(Step)
}) {}

export const PlanJson = Schema.parseJson(Plan)
export const encodePlan = Schema.encodeSync(PlanJson)
export const decodePlan = Schema.decodeUnknown(PlanJson)
