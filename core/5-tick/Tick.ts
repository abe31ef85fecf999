// One sync tick for one Marketo instance (the caller holds the instance's sync lease): fold the
// inbox (FoldInbox.ts), weigh the audiences with work (AudienceScan.ts, Scheduler.ts), resolve
// their unknown leads once for all (SharedLeads.ts), then sync each scheduled audience
// (SyncAudience.ts) until the deadline, the budget or the quota stops it. What it asks of the
// state store is counted (CountingStore.ts) and reported with the rest.
import { Cause, Clock, Effect, Exit, Option } from "effect"
import type { AudienceKey } from "../1-events/Ids.js"
import type { SyncError } from "../2-ledger/AudienceRecord.js"
import { MarketoApi } from "../ports/MarketoApi.js"
import { StateStore } from "../ports/StateStore.js"
import { scanAudiences, scheduleLoads } from "./AudienceScan.js"
import { recordAudienceError } from "./AudienceErrors.js"
import { countingCalls } from "./CountingCalls.js"
import { countingStore, storageCounter, storageCounts, type StorageCounts } from "./CountingStore.js"
import { reasonOf } from "./FailureReason.js"
import { type FoldFailure, defaultMaxInboxBytes, foldInbox } from "./FoldInbox.js"
import { dueImportCalls, plannerTiming, readImportLatency, stagingOf, type TimingContext, writeImportLatency } from "./ImportTiming.js"
import { forgetIfEmptied } from "./ForgetAudience.js"
import { reconcileInTick } from "./ReconcileTick.js"
import { defaultSchedulerSettings, scheduleTick } from "./Scheduler.js"
import { planSharedLeads, resolveSharedLeads, sharedCalls, type SharedLeads } from "./SharedLeads.js"
import { sendsUpdates } from "./LeadFieldSync.js"
import { type AudienceTick, type Prepared, prepare, type StopReason, syncAudience } from "./SyncAudience.js"
import type { SyncSettings } from "./SyncSettings.js"

export interface TickSummary {
  readonly inboxFolded: number
  readonly changesFolded: number
  /** Audiences whose fold failed this tick; their changes wait in the inbox or the quarantine. */
  readonly foldFailures: ReadonlyArray<FoldFailure>
  /** Every audience the tick synced, failed ones with their error. */
  readonly audiences: ReadonlyArray<AudienceTick>
  /** Every Marketo call of the tick, the shared lead calls included. */
  readonly calls: number
  /** Upserts and lookups made once for several audiences (core/5-tick/SharedLeads.ts). */
  readonly sharedCalls: number
  /** Audiences with work the scheduler left for a later tick (quota pacing). */
  readonly deferred: ReadonlyArray<AudienceKey>
  /** The latency the budget lets the scheduler honour now. */
  readonly honouredLatencyMillis: number
  readonly stoppedBy?: "deadline" | "budget" | "quota"
  /** Calls of reconciles in progress (ReconcileTick.ts), in `calls` too; absent when none ran. */
  readonly reconcileCalls?: number
  /** What the tick asked of the state store, in Workers KV's terms (CountingStore.ts). */
  readonly storage: StorageCounts
}

const failedAudience = (audience: AudienceKey, reason: { readonly tag: string; readonly message: string }, code: string): AudienceTick => ({
  audience,
  stepsDone: 0,
  calls: 0,
  added: 0,
  removed: 0,
  remaining: { add: 0, remove: 0 },
  error: { tag: reason.tag, code, message: reason.message }
})

/** Emails one tick resolves with shared upserts and lookups (ten calls); larger deltas plan alone. */
const defaultSharedLeadsMaxEmails = 3_000

export const runTick = Effect.fn("Tick.runTick")(function*(settings: SyncSettings) {
  const counter = storageCounter()
  const summary = yield* tickOnce(settings).pipe(
    Effect.provideServiceEffect(StateStore, Effect.map(StateStore, (store) => countingStore(store, counter)))
  )
  const storage = storageCounts(counter)
  yield* Effect.logInfo("tick").pipe(Effect.annotateLogs({
    inbox: summary.inboxFolded,
    changes: summary.changesFolded,
    calls: summary.calls,
    sharedCalls: summary.sharedCalls,
    audiences: summary.audiences.length,
    failed: summary.audiences.filter((a) => a.error !== undefined).length + summary.foldFailures.length,
    deferred: summary.deferred.length,
    kvReads: storage.reads,
    kvWrites: storage.writes,
    kvDeletes: storage.deletes,
    kvLists: storage.lists,
    stoppedBy: summary.stoppedBy ?? "done"
  }))
  return { ...summary, storage } satisfies TickSummary
})

const tickOnce = Effect.fnUntraced(function*(settings: SyncSettings) {
  const folded = yield* foldInbox(settings.maxInboxEntries ?? 200, settings.maxInboxBytes ?? defaultMaxInboxBytes, settings.foldDeadline, settings.splitAtEmails)
  const audiences: Array<AudienceTick> = []
  let stoppedBy: StopReason | undefined = folded.stopped ? "deadline" : undefined
  const scan = yield* scanAudiences()
  const byKey = new Map(scan.records.map((r) => [r.key, r]))
  const scheduler = { ...defaultSchedulerSettings, ...settings.scheduler }
  const latency = { current: yield* readImportLatency }
  const learnedBefore = latency.current
  const timingAt = (now: number, perTickCalls: number): TimingContext => ({
    now,
    tickMillis: scheduler.tickIntervalMillis,
    latencyTargetMillis: scheduler.latencyTargetMillis,
    perTickCalls,
    latency,
    inboxWaiting: folded.waitingTags
  })
  const startedAt = yield* Clock.currentTimeMillis
  // An import in flight is work only on the ticks its poll (or, answer lost, its check) is due.
  const loads = scheduleLoads(scan, sendsUpdates(settings.leadFields), (record) => dueImportCalls(record, timingAt(startedAt, 0)))
  const schedule = scheduleTick(loads, startedAt, settings.quota, scheduler, folded.backlog)
  // What one audience may spend per tick: the scheduler's share for due work, at most what the
  // rolling window lets one tick make before its deadline (50 per 20 s over 25 s: 62).
  const windowCalls = Math.floor(settings.budget.callsPerWindow * Math.max(0, settings.deadline - startedAt) / settings.budget.windowMillis)
  const perTickCalls = Math.max(1, Math.min(windowCalls, settings.quota === undefined ? Number.POSITIVE_INFINITY : scheduler.dueBurst * schedule.evenShare))

  // Read ahead the small deltas (up to the shared cap in all) and resolve their unknown leads once.
  const sharedMax = settings.sharedLeadsMaxEmails ?? defaultSharedLeadsMaxEmails
  const prepared = new Map<AudienceKey, Prepared>()
  let preparedEmails = 0
  for (const key of schedule.audiences) {
    // Reading ahead is work too: none starts past the deadline.
    if ((yield* Clock.currentTimeMillis) >= settings.deadline) break
    const load = loads.find((l) => l.key === key)!
    const pending = load.pendingAdd + load.pendingRemove + (load.pendingUpdate ?? 0)
    // An audience without its list yet ensures it (and the folder) first: no lead is created for
    // a list that cannot exist.
    if (!load.hasList || byKey.get(key)!.removal !== undefined || pending === 0 || preparedEmails + pending > sharedMax) continue
    // An audience that cannot be read ahead is left to its own sync below, where its failure is recorded.
    const ahead = yield* Effect.option(prepare(byKey.get(key)!, settings))
    if (Option.isNone(ahead)) continue
    prepared.set(key, ahead.value)
    preparedEmails += pending
  }
  // When each call of the tick ended: a step that would wait for the rate window past the deadline does not start.
  const callTimes: Array<number> = []
  const sharedCounter = { calls: 0, times: callTimes }
  const sharedPlan = planSharedLeads([...prepared.values()].map((p) => p.delta), sharedMax, (delta) => {
    const record = prepared.get(delta.audience)?.record ?? byKey.get(delta.audience)
    if (record === undefined) return {}
    const timing = timingAt(startedAt, perTickCalls)
    // As the audience's own plan will be told: rows a staged file takes are not upserted here.
    return { timing: plannerTiming(record, timing, delta.add.length), ...(settings.stagedImports === false ? {} : { staging: stagingOf(record, delta, timing) }) }
  })
  const resolved = sharedCalls(sharedPlan) === 0
    ? { outcomes: new Map() as SharedLeads, stop: undefined }
    : yield* resolveSharedLeads(sharedPlan, settings.deadline).pipe(
      Effect.provideServiceEffect(MarketoApi, Effect.map(MarketoApi, (api) => countingCalls(api, sharedCounter)))
    )
  if (resolved.stop === "quota") stoppedBy = "quota"
  const syncing = stoppedBy === undefined || stoppedBy === "deadline"

  let folderMissing: SyncError | undefined
  for (const key of syncing ? schedule.audiences : []) {
    if ((yield* Clock.currentTimeMillis) >= settings.deadline) {
      stoppedBy = "deadline"
      break
    }
    const record = byKey.get(key)!
    const timing = timingAt(yield* Clock.currentTimeMillis, perTickCalls)
    const synced = yield* Effect.exit(syncAudience(prepared.get(key) ?? record, settings, folderMissing, resolved.outcomes, callTimes, timing))
    if (Exit.isFailure(synced)) {
      // One audience's failure (storage, a value that does not decode, a bug) stops that audience
      // alone: it becomes its lastError and the tick goes on with the others.
      if (Cause.isInterruptedOnly(synced.cause)) return yield* Effect.failCause(synced.cause)
      const failure = Cause.failureOption(synced.cause)
      if (Option.isSome(failure) && failure.value._tag === "StateNotVisible") continue
      const reason = reasonOf(synced.cause)
      audiences.push(failedAudience(key, reason, "sync"))
      yield* recordAudienceError(key, { ...reason, code: "sync" })
      continue
    }
    const { folderMissing: missing, stop, tick } = synced.value
    folderMissing = missing
    audiences.push(tick)
    if (record.removal === "empty" && tick.error === undefined) yield* Effect.ignoreLogged(forgetIfEmptied(record.key))
    if (stop !== undefined) {
      stoppedBy = stop
      if (stop !== "deadline") break
    }
  }
  // Reconciles in progress go on with what the tick has left of its time and calls.
  const syncCalls = sharedCounter.calls + audiences.reduce((n, a) => n + a.calls, 0)
  const reconciled = stoppedBy === undefined && scan.reconciling.length > 0
    ? yield* reconcileInTick(scan.reconciling, settings, callTimes, Math.min(settings.reconcileMaxCalls ?? Infinity, perTickCalls - syncCalls))
    : undefined
  if (reconciled?.stop !== undefined) stoppedBy = reconciled.stop
  // What this tick's polls taught about the instance's import latency, for every audience's next plans.
  if (latency.current !== learnedBefore) yield* Effect.ignoreLogged(writeImportLatency(latency.current))
  for (const bad of scan.unreadable) {
    audiences.push(failedAudience(bad.audience, bad, "record"))
    yield* recordAudienceError(bad.audience, { ...bad, code: "record" })
  }
  const summary: Omit<TickSummary, "storage"> = {
    inboxFolded: folded.entries,
    changesFolded: folded.changes,
    foldFailures: folded.failures,
    audiences,
    calls: syncCalls + (reconciled?.calls ?? 0),
    ...(reconciled === undefined ? {} : { reconcileCalls: reconciled.calls }),
    sharedCalls: sharedCounter.calls,
    deferred: schedule.deferred,
    honouredLatencyMillis: schedule.honouredLatencyMillis,
    ...(stoppedBy === undefined ? {} : { stoppedBy })
  }
  return summary
})
