// What a tick is told by the deployment that runs it: the folder, the budget, the deadline, the
// caps that keep one tick inside a Worker's memory and time, and the lead fields it sends.
import type { DeltaLimits } from "./CollectDelta.js"
import type { LeadFieldSettings } from "./LeadFieldSync.js"
import type { QuotaView, SchedulerSettings } from "./Scheduler.js"

export interface SyncSettings {
  readonly folderName: string
  readonly budget: { readonly callsPerWindow: number; readonly windowMillis: number }
  /** Epoch ms: no step starts after it, and no shard of the delta or of the flush is read. */
  readonly deadline: number
  /**
   * Epoch ms after which the fold starts no further inbox group, audience or shard pair (what it
   * leaves waits in the inbox). A deployment sets it to the deadline (workers/SyncTick.ts); without
   * it the fold takes what its caps allow, as a tick run to fold only (deadline 0) expects.
   */
  readonly foldDeadline?: number
  /** Inbox entries folded per tick, oldest first (default 200). */
  readonly maxInboxEntries?: number
  /** Stop reading inbox entries once this many characters are read (default 4,000,000: FoldInbox.ts). */
  readonly maxInboxBytes?: number
  readonly deltaLimits?: DeltaLimits
  /** A shard holding more emails than this is split in two by the fold (default 32,000; core/2-ledger/ShardSplit.ts). */
  readonly splitAtEmails?: number
  /** What is left of the day's quota: without it every audience with work is synced. */
  readonly quota?: QuotaView
  readonly scheduler?: Partial<SchedulerSettings>
  /** Emails resolved per tick by upserts and lookups shared between audiences (default 3,000). */
  readonly sharedLeadsMaxEmails?: number
  /**
   * Calls a tick may spend on reconciles in progress (core/5-tick/ReconcileTick.ts), within what
   * its share of the budget leaves after the syncs (the default); 0 leaves them for later ticks.
   */
  readonly reconcileMaxCalls?: number
  /**
   * Imported rows go into one file carried across ticks, sent when full or when it should go
   * (core/2-ledger/StagedImport.ts); default true. False: each tick imports its rows at once.
   */
  readonly stagedImports?: boolean
  /** Which lead fields are sent, and when (core/5-tick/LeadFieldSync.ts); none without it. */
  readonly leadFields?: LeadFieldSettings
}
