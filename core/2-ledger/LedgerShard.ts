// The durable state of one audience, split by a hash of the email (core/2-ledger/Sharding.ts) so a tick
// reads and writes only the shards its changes touch. One shard holds, per email: the latest
// known membership of every user that has held it (last-writer-wins by (timestamp, messageId)),
// whether the email is on the Marketo list as far as we know (`synced`), its cached lead ids, and
// the member's lead field values.
import { Schema } from "effect"
import { AudienceKey, LeadId } from "../1-events/Ids.js"
import { StoredFields } from "./LeadFieldRecord.js"
import { ShardCounts } from "./AudienceRecord.js"
import { ImportId } from "./ImportsInFlight.js"

/** One user's latest word on one email: kept for non-members too, so late older events lose. */
export const Holder = Schema.Struct({
  user: Schema.String,
  member: Schema.Boolean,
  timestamp: Schema.Number,
  messageId: Schema.String
})
export type Holder = typeof Holder.Type

export const EmailRecord = Schema.Struct({
  holders: Schema.Array(Holder),
  /** On the Marketo list, as far as the last applied step knows. */
  synced: Schema.Boolean,
  /** Lead ids learned from upserts or lookups (several when Marketo has duplicates). */
  leadIds: Schema.optional(Schema.Array(LeadId)),
  /**
   * A bulk import carrying this email is running (or its answer was lost: a negative reference):
   * do not plan it again until the import ends or the sync has found out what became of it.
   */
  importing: Schema.optional(ImportId),
  /**
   * An import refused this email's row (Marketo's reason): it is sent by upsert + add instead,
   * whose per-record answer says whether Marketo takes the address.
   */
  importFailed: Schema.optional(Schema.String),
  /**
   * Marketo refused this email (a per-record reason code, e.g. "1003"): not retried until a newer
   * change for the email arrives, so one bad address cannot make a list loop forever.
   */
  refused: Schema.optional(Schema.String),
  /** The member's lead field values, last writer wins per field (core/2-ledger/LeadFieldRecord.ts). */
  fields: Schema.optional(StoredFields),
  /** A field value changed since the fields were last sent to Marketo. */
  fieldsPending: Schema.optional(Schema.Literal(true))
})
export type EmailRecord = typeof EmailRecord.Type

export const LedgerShard = Schema.Struct({
  audience: AudienceKey,
  shard: Schema.Number.pipe(Schema.int(), Schema.nonNegative()),
  /** Keyed by normalised email. */
  emails: Schema.Record({ key: Schema.String, value: EmailRecord }),
  /**
   * Only in a shard's pending index (core/2-ledger/PendingIndex.ts): the counts of the base's
   * records it does not hold, so the shard's counts are known from the index alone.
   */
  outside: Schema.optional(ShardCounts),
  /** Only in a pending index: the emails of the whole shard (its base's and its own, each once). */
  size: Schema.optional(Schema.Number.pipe(Schema.int(), Schema.nonNegative()))
})
export type LedgerShard = typeof LedgerShard.Type

export const LedgerShardJson = Schema.parseJson(LedgerShard)

/** Shards of one audience by shard number, as a tick holds them. */
export type ShardSet = Map<number, LedgerShard>
