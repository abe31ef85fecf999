// Marketo answers HTTP 200 with success or failure in the body. Codes arrive as strings (some
// clients have seen numbers: both are accepted and kept as strings).
import { Schema } from "effect"

const Code = Schema.Union(Schema.String, Schema.Number).pipe(Schema.transform(Schema.String, { decode: String, encode: (s) => s }))

export const MarketoIssue = Schema.Struct({ code: Code, message: Schema.optionalWith(Schema.String, { default: () => "" }) })

export const Envelope = Schema.Struct({
  requestId: Schema.optional(Schema.String),
  success: Schema.Boolean,
  result: Schema.optional(Schema.Array(Schema.Unknown)),
  errors: Schema.optional(Schema.Array(MarketoIssue)),
  warnings: Schema.optional(Schema.Array(Schema.Unknown)),
  nextPageToken: Schema.optional(Schema.String),
  moreResult: Schema.optional(Schema.Boolean)
})
export type Envelope = typeof Envelope.Type

const Reasons = Schema.optional(Schema.Array(MarketoIssue))

export const FolderRecord = Schema.Struct({
  id: Schema.Number,
  name: Schema.String,
  type: Schema.optionalWith(Schema.String, { default: () => "Folder" }),
  path: Schema.optionalWith(Schema.String, { default: () => "" })
})
export const StaticListRecord = Schema.Struct({
  id: Schema.Number,
  name: Schema.String,
  folder: Schema.Struct({ id: Schema.Number, type: Schema.optional(Schema.String) })
})
/** One upsert result: a lead id when created or updated; reasons when skipped. */
export const UpsertRecord = Schema.Union(
  Schema.Struct({ id: Schema.Number, status: Schema.Literal("created", "updated") }),
  Schema.Struct({ id: Schema.optional(Schema.Number), status: Schema.Literal("skipped"), reasons: Reasons })
)
export const LeadRecord = Schema.Struct({ id: Schema.Number, email: Schema.optional(Schema.NullOr(Schema.String)) })
/** One add or remove result, for a lead id that was sent. */
export const MembershipRecord = Schema.Struct({ id: Schema.Number, status: Schema.Literal("added", "removed", "skipped"), reasons: Reasons })
export const IsMemberRecord = Schema.Struct({ id: Schema.Number, status: Schema.Literal("memberof", "notmemberof", "skipped"), reasons: Reasons })
export const ImportRecord = Schema.Struct({ batchId: Schema.Number, status: Schema.String })
export const ImportStatusRecord = Schema.Struct({
  batchId: Schema.Number,
  status: Schema.Literal("Queued", "Importing", "Complete", "Failed"),
  numOfLeadsProcessed: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  numOfRowsFailed: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  numOfRowsWithWarning: Schema.optionalWith(Schema.Number, { default: () => 0 }),
  message: Schema.optional(Schema.String)
})
/** describe2's one record ("API Lead"): every lead field of the instance. */
export const LeadDescribeRecord = Schema.Struct({
  fields: Schema.Array(Schema.Struct({
    name: Schema.String,
    dataType: Schema.String,
    length: Schema.optional(Schema.NullOr(Schema.Number)),
    updateable: Schema.Boolean
  }))
})
