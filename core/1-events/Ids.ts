// Identifiers that cross the core's boundary: branded once at the edge, trusted inside.
import { Schema } from "effect"

/**
 * Bytes an audience key takes inside a storage key: keys are percent-encoded there (so "/" can
 * never reach another audience's records), which turns one "%" into 3 bytes and one CJK character
 * into 9.
 */
export const encodedAudienceKeyBytes = (key: string): number => encodeURIComponent(key).length

/**
 * The most an audience key may take once percent-encoded. Every storage key derived from it, with
 * the largest shard, journal, epoch and version suffixes, then stays within Workers KV's 512-byte
 * key limit (core/2-ledger/StateKeys.ts proves the sum; its test checks every key kind).
 */
export const maxEncodedAudienceKeyBytes = 400

/** The stable key of a CDP audience (Segment's `computation_key`), short enough to store. */
export const AudienceKey = Schema.String.pipe(
  Schema.trimmed(),
  Schema.minLength(1),
  Schema.maxLength(255),
  Schema.filter((key) => encodedAudienceKeyBytes(key) <= maxEncodedAudienceKeyBytes, {
    message: () => `an audience key may take at most ${maxEncodedAudienceKeyBytes} bytes once percent-encoded for storage`
  }),
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
