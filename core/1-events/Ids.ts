// Identifiers that cross the core's boundary: branded once at the edge, trusted inside.
import { Schema } from "effect"

/** The stable key of a CDP audience (Segment's `computation_key`). */
export const AudienceKey = Schema.String.pipe(
  Schema.trimmed(),
  Schema.minLength(1),
  Schema.maxLength(255),
  Schema.brand("AudienceKey")
)
export type AudienceKey = typeof AudienceKey.Type

/** A Marketo static list id. */
export const ListId = Schema.Number.pipe(Schema.int(), Schema.positive(), Schema.brand("ListId"))
export type ListId = typeof ListId.Type

/** A Marketo lead id. */
export const LeadId = Schema.Number.pipe(Schema.int(), Schema.positive(), Schema.brand("LeadId"))
export type LeadId = typeof LeadId.Type

/** A Marketo folder id (Asset API). */
export const FolderId = Schema.Number.pipe(Schema.int(), Schema.positive(), Schema.brand("FolderId"))
export type FolderId = typeof FolderId.Type

/** A Marketo bulk import batch id. */
export const ImportBatchId = Schema.Number.pipe(Schema.int(), Schema.positive(), Schema.brand("ImportBatchId"))
export type ImportBatchId = typeof ImportBatchId.Type

/** Segment's two kinds of computed audience. Journey-step lists only ever grow. */
export const AudienceClass = Schema.Literal("audience", "journey_step")
export type AudienceClass = typeof AudienceClass.Type
