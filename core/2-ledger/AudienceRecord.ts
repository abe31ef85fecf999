// One audience's summary record: its list, its shard layout with per-shard counts (so a tick knows
// which shards have work without reading them), imports in flight, and the last outcome.
import { Schema } from "effect"
import { AudienceClass, AudienceKey, ImportBatchId, ListId } from "../1-events/Ids.js"
import { ImportInFlight } from "./ImportsInFlight.js"
import { StagedFile, StagedLeft } from "./StagedImport.js"

export const ShardCounts = Schema.Struct({
  desired: Schema.Number,
  synced: Schema.Number,
  pendingAdd: Schema.Number,
  pendingRemove: Schema.Number,
  importing: Schema.Number,
  refused: Schema.Number,
  /** On the list with a lead field value changed since last sent (absent in records written before fields). */
  pendingUpdate: Schema.optional(Schema.Number)
})
export type ShardCounts = typeof ShardCounts.Type

export const SyncError = Schema.Struct({
  tag: Schema.String,
  code: Schema.String,
  message: Schema.String,
  at: Schema.Number
})
export type SyncError = typeof SyncError.Type

export const AudienceRecord = Schema.Struct({
  key: AudienceKey,
  audienceClass: AudienceClass,
  displayName: Schema.optional(Schema.String),
  listId: Schema.optional(ListId),
  externalListId: Schema.optional(ListId),
  shardCount: Schema.Number.pipe(Schema.int(), Schema.positive()),
  /** Shards split as the audience grew, each replaced by its two children (core/2-ledger/ShardSplit.ts). */
  splits: Schema.optional(Schema.Array(Schema.Number)),
  /** Counts per shard number (the shards of the current layout only). */
  shards: Schema.Record({ key: Schema.String, value: ShardCounts }),
  /** Distinct users currently members without any email. */
  withoutEmail: Schema.Number,
  pendingImports: Schema.Array(ImportBatchId),
  /**
   * Every import in flight with when it was sent and its rows, the confirmed ones (also in
   * `pendingImports`) and those whose answer was lost (a negative reference).
   */
  imports: Schema.optional(Schema.Array(ImportInFlight)),
  /** A bulk import file being filled across ticks, not sent yet (core/2-ledger/StagedImport.ts). */
  staged: Schema.optional(StagedFile),
  /** Staged files sent whose parts are still to delete from the store. */
  stagedLeft: Schema.optional(Schema.Array(StagedLeft)),
  /** The next local reference for an import sent (its answer may be lost): -1, -2, … */
  nextImportRef: Schema.optional(Schema.Number),
  /**
   * The audience's list was deleted in Marketo (calls on it answered 1013): a new one was created
   * in the folder and every member added back. The id of the list that was lost, and when.
   */
  listReplaced: Schema.optional(Schema.Struct({ previousListId: ListId, at: Schema.Number })),
  /** Rows imports refused (failures.csv, warnings.csv) since the audience began; each is sent again by upsert. */
  importRowsFailed: Schema.optional(Schema.Number),
  lastSync: Schema.optional(Schema.Struct({
    at: Schema.Number,
    outcome: Schema.Literal("ok", "partial", "error"),
    calls: Schema.Number
  })),
  lastError: Schema.optional(SyncError),
  /**
   * Epoch ms the oldest change still waiting for the list arrived (when its batch was received):
   * the scheduler syncs the audience before that change waits past the latency target.
   */
  pendingSince: Schema.optional(Schema.Number),
  progress: Schema.optional(Schema.Struct({ stepsDone: Schema.Number, stepsTotal: Schema.Number })),
  /**
   * Which journal entries belong to the shards as written: each write of the shards moves it on,
   * in the same atomic write, so entries a crash left behind after that write are never replayed.
   */
  journalEpoch: Schema.optional(Schema.Number.pipe(Schema.int(), Schema.nonNegative())),
  /**
   * The last reconcile that ended (core/5-tick/Reconcile.ts): when it began and ended, the
   * members it read, its calls, and the drift it found (missing, unexpected, strays).
   */
  lastReconcile: Schema.optional(Schema.Struct({
    run: Schema.String,
    startedAt: Schema.Number,
    at: Schema.Number,
    membersRead: Schema.Number,
    calls: Schema.Number,
    missing: Schema.Number,
    unexpected: Schema.Number,
    strays: Schema.Number
  })),
  /** The audience was removed with "empty": every member leaves the list, then the state goes. */
  removal: Schema.optional(Schema.Literal("empty"))
})
export type AudienceRecord = typeof AudienceRecord.Type
export const AudienceRecordJson = Schema.parseJson(AudienceRecord)

export const totals = (record: AudienceRecord): ShardCounts =>
  Object.values(record.shards).reduce<ShardCounts>(
    (sum, c) => ({
      desired: sum.desired + c.desired,
      synced: sum.synced + c.synced,
      pendingAdd: sum.pendingAdd + c.pendingAdd,
      pendingRemove: sum.pendingRemove + c.pendingRemove,
      importing: sum.importing + c.importing,
      refused: sum.refused + c.refused,
      pendingUpdate: (sum.pendingUpdate ?? 0) + (c.pendingUpdate ?? 0)
    }),
    { desired: 0, synced: 0, pendingAdd: 0, pendingRemove: 0, importing: 0, refused: 0, pendingUpdate: 0 }
  )

export const pendingCount = (record: AudienceRecord) =>
  Object.values(record.shards).reduce((n, c) => n + c.pendingAdd + c.pendingRemove, 0)

/** Keep the arrival of the oldest change still waiting; none when nothing waits. */
export const withPendingSince = (record: AudienceRecord, arrivedAt: number): AudienceRecord => {
  const { pendingSince, ...rest } = record
  if (pendingCount(record) === 0) return rest
  return { ...rest, pendingSince: Math.min(pendingSince ?? arrivedAt, arrivedAt) }
}
