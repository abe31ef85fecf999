// Which audiences exist and which have work: one listing of the audience keys gives every record
// and every journal a stopped tick left behind; the scheduler weighs what it finds.
import { Clock, Effect, Option } from "effect"
import type { AudienceKey } from "../1-events/Ids.js"
import type { AudienceRecord } from "../2-ledger/AudienceRecord.js"
import { readRecord } from "../2-ledger/AudienceShards.js"
import { StateKeys } from "../2-ledger/StateKeys.js"
import { StateStore } from "../ports/StateStore.js"
import { importInFlight } from "./ImportTiming.js"
import { type AudienceLoad, defaultSchedulerSettings, type QuotaView, scheduleTick, type SchedulerSettings } from "./Scheduler.js"

const hasWork = (record: AudienceRecord, updates: boolean) =>
  record.removal !== undefined ||
  record.progress !== undefined ||
  record.pendingImports.length > 0 ||
  (record.imports?.length ?? 0) > 0 ||
  record.staged !== undefined ||
  (record.stagedLeft?.length ?? 0) > 0 ||
  Object.values(record.shards).some((c) => c.pendingAdd > 0 || c.pendingRemove > 0 || (updates && (c.pendingUpdate ?? 0) > 0))

/** Every audience record, and which audiences have journal entries left (from one listing). */
export const scanAudiences = Effect.fn("AudienceScan.scanAudiences")(function*() {
  const store = yield* StateStore
  const all = yield* store.list(StateKeys.audiencePrefix)
  const records: Array<AudienceRecord> = []
  const unreadable: Array<{ readonly audience: AudienceKey; readonly tag: string; readonly message: string }> = []
  const withJournal = new Set<string>()
  /** Audiences with a reconcile in progress (core/5-tick/ReconcileRun.ts). */
  const reconciling: Array<AudienceKey> = []
  for (const key of all) {
    if (StateKeys.isAudienceRecord(key)) {
      const audience = decodeURIComponent(key.slice(StateKeys.audiencePrefix.length)) as AudienceKey
      // One record that cannot be read is that audience's problem: the others are scanned.
      const record = yield* Effect.either(readRecord(audience))
      if (record._tag === "Right") {
        if (Option.isSome(record.right)) records.push(record.right.value)
      } else if (record.left._tag !== "StateNotVisible") {
        unreadable.push({ audience, tag: record.left._tag, message: record.left.message })
      }
    } else if (key.includes("/journal/")) withJournal.add(key.slice(0, key.indexOf("/journal/")))
    else if (/^aud\/[^/]+\/reconcile$/.test(key)) reconciling.push(decodeURIComponent(key.slice(StateKeys.audiencePrefix.length, -"/reconcile".length)) as AudienceKey)
  }
  return { records, withJournal, unreadable, reconciling }
})

export const listRecords = Effect.fn("AudienceScan.listRecords")(function*() {
  return (yield* scanAudiences()).records
})

/** What the scheduler needs to know of an audience, from its record alone. */
const loadOf = (record: AudienceRecord, withJournal: boolean, updates: boolean, importCalls: (record: AudienceRecord) => number): AudienceLoad => {
  const counts = Object.values(record.shards)
  const pendingUpdate = updates && record.removal === undefined ? counts.reduce((n, c) => n + (c.pendingUpdate ?? 0), 0) : 0
  return {
    key: record.key,
    pendingAdd: record.removal === "empty" ? 0 : counts.reduce((n, c) => n + c.pendingAdd, 0),
    ...(pendingUpdate === 0 ? {} : { pendingUpdate }),
    pendingRemove: record.removal === "empty" ? counts.reduce((n, c) => n + c.synced, 0) : counts.reduce((n, c) => n + c.pendingRemove, 0),
    ...(record.pendingSince === undefined ? {} : { pendingSince: record.pendingSince }),
    unfinished: withJournal || record.progress !== undefined || record.removal !== undefined || (record.stagedLeft?.length ?? 0) > 0,
    // A list the sender named is not the audience's until it is checked to be in the folder.
    hasList: record.listId !== undefined,
    // A staged file with no import in flight before it is sent this tick: one import.
    pendingImports: importCalls(record) + (record.staged !== undefined && !importInFlight(record) ? 1 : 0)
  }
}

/**
 * The audiences the scheduler weighs: those with work, and those with journal entries left behind
 * (a tick stopped before or after writing its shards), which are replayed or deleted even when the
 * audience has nothing else to do. With `updates`, changed lead fields to send are work too.
 */
export const scheduleLoads = (
  scan: { readonly records: ReadonlyArray<AudienceRecord>; readonly withJournal: ReadonlySet<string> },
  updates = false,
  /** Calls its imports in flight need this tick (their polls due); every poll by default. */
  importCalls: (record: AudienceRecord) => number = (r) => r.pendingImports.length
) => {
  const hasJournal = (r: AudienceRecord) => scan.withJournal.has(StateKeys.audience(r.key))
  return scan.records.filter((r) => hasWork(r, updates) || hasJournal(r)).map((r) => loadOf(r, hasJournal(r), updates, importCalls))
}

/** What the scheduler would decide now: the status page shows the latency it can honour. */
export const currentSchedule = Effect.fn("AudienceScan.currentSchedule")(function*(quota: QuotaView | undefined, scheduler: Partial<SchedulerSettings> = {}) {
  const loads = scheduleLoads(yield* scanAudiences())
  return scheduleTick(loads, yield* Clock.currentTimeMillis, quota, { ...defaultSchedulerSettings, ...scheduler })
})
