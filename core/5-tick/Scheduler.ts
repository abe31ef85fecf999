// Which audiences a tick syncs, decided from their pending work and the instance's budget. Pure:
// the caller passes the time, the audiences' counts and what is left of the day's quota.
//
// The day's quota (less its reserve) is spent evenly over what is left of the day: each tick may
// spend its even share. Work that would otherwise miss the latency target (its oldest change has
// waited a target less one tick) is due and goes first, up to `dueBurst` even shares; audiences
// that are not due yet fill what is left of the even share, oldest first. So a quiet instance
// syncs every change on the next tick, and a busy one batches each list's changes for longer
// (fewer, fuller calls) rather than running out of quota before midnight.
import type { AudienceKey } from "../1-events/Ids.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"
import type { BudgetStatus } from "../ports/RateLimiter.js"

export interface AudienceLoad {
  readonly key: AudienceKey
  readonly pendingAdd: number
  readonly pendingRemove: number
  /** Members on the list whose changed lead fields are to be sent (shared upserts, no list call). */
  readonly pendingUpdate?: number
  /** Epoch ms the oldest change still waiting arrived; absent when nothing waits. */
  readonly pendingSince?: number
  /** Work a tick must finish whatever the budget: a journal to replay, imports to poll, a plan half done. */
  readonly unfinished: boolean
  /** The list exists already (else creating it costs up to two calls). */
  readonly hasList: boolean
  readonly pendingImports: number
}

export interface QuotaView {
  /** Calls this instance may still make today (the quota less its reserve, less what was used). */
  readonly callsLeftToday: number
  /** Epoch ms of the next daily reset. */
  readonly resetsAt: number
}

/** The quota view of the instance's budget as the rate limiter reports it. */
export const quotaOf = (status: BudgetStatus): QuotaView => ({
  callsLeftToday: Math.max(0, status.dailyQuota - status.dailyReserve - status.usedToday),
  resetsAt: status.resetsAt
})

/** Calls a tick can start before its deadline: the window's calls at once, then one window's more per window. */
export const tickCapacity = (callsPerWindow: number, windowMillis: number, tickMillis: number) =>
  callsPerWindow * (1 + Math.floor(tickMillis / windowMillis))

export interface SchedulerSettings {
  /** How long a change may wait before its list is synced (default 5 minutes). */
  readonly latencyTargetMillis: number
  /** Time between ticks (the cron runs every minute). */
  readonly tickIntervalMillis: number
  /** Calls one tick can make before its deadline (the rolling window allows no more). */
  readonly tickCallCapacity: number
  /** Due work may spend up to this many even shares in one tick. */
  readonly dueBurst: number
}

export const defaultSchedulerSettings: SchedulerSettings = {
  latencyTargetMillis: 5 * 60_000,
  tickIntervalMillis: 60_000,
  tickCallCapacity: 100,
  dueBurst: 3
}

export interface Schedule {
  /** The audiences to sync this tick, in order. */
  readonly audiences: ReadonlyArray<AudienceKey>
  /** Audiences with work left waiting for a later tick. */
  readonly deferred: ReadonlyArray<AudienceKey>
  /** The calls this tick's selection is expected to cost. */
  readonly estimatedCalls: number
  /** The even share of the day's remaining quota for one tick. */
  readonly evenShare: number
  /** The latency the budget lets us honour now: the target, or more when due work had to wait. */
  readonly honouredLatencyMillis: number
}

const batches = (n: number) => Math.ceil(n / MarketoLimits.batchSize)

/**
 * Calls of the list's own steps (adds, removes, list creation, polls). Upserts and lookups are
 * shared between the audiences of a tick and counted apart, per 300 emails of all of them.
 */
export const listCalls = (load: AudienceLoad): number =>
  (load.hasList ? 0 : 2) + load.pendingImports + (addsByImport(load) ? importCalls(load.pendingAdd) : batches(load.pendingAdd)) +
  batches(load.pendingRemove)

/** A generous import row (an email and its line end): the scheduler knows counts, not emails. */
const assumedRowBytes = 64

/** Adds by bulk import: a file per 10 MB of rows, each with its status poll. */
const importCalls = (adds: number) => (adds === 0 ? 0 : 2 * Math.ceil((adds * assumedRowBytes) / MarketoLimits.maxImportFileBytes))

/** The planner imports when that is cheaper than upsert + add (core/3-plan/CostModel.ts). */
const addsByImport = (load: AudienceLoad) => importCalls(load.pendingAdd) < 2 * batches(load.pendingAdd)

/** Emails of the load that go through the tick's shared upserts and lookups. */
const sharedOf = (load: AudienceLoad) => (addsByImport(load) ? 0 : load.pendingAdd) + load.pendingRemove

const pendingOf = (load: AudienceLoad) => load.pendingAdd + load.pendingRemove + (load.pendingUpdate ?? 0)

/** What one audience's sync costs when it is the tick's only one: its list's calls and its shared calls. */
export const costAlone = (load: AudienceLoad): number => listCalls(load) + batches(sharedOf(load))

export const scheduleTick = (
  loads: ReadonlyArray<AudienceLoad>,
  now: number,
  quota: QuotaView | undefined,
  settings: SchedulerSettings = defaultSchedulerSettings,
  /**
   * The inbox holds changes not folded yet (a large load arriving over several ticks): only work
   * that is due goes now, so a big delta is sent in one import once it has all arrived.
   */
  inboxBacklog = false
): Schedule => {
  const waiting = loads.filter((l) => l.unfinished || pendingOf(l) > 0 || l.pendingImports > 0)
  const age = (l: AudienceLoad) => (l.pendingSince === undefined ? 0 : now - l.pendingSince)
  const isDue = (l: AudienceLoad) =>
    l.unfinished || l.pendingImports > 0 || age(l) >= settings.latencyTargetMillis - settings.tickIntervalMillis ||
    // A full batch gains nothing by waiting, unless more of it is still arriving.
    (!inboxBacklog && pendingOf(l) >= MarketoLimits.batchSize)
  // Oldest first, within due work and within the rest.
  const byAge = (a: AudienceLoad, b: AudienceLoad) => age(b) - age(a) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)
  const due = waiting.filter(isDue).sort(byAge)
  const early = waiting.filter((l) => !isDue(l)).sort(byAge)

  // Without a view of the quota (tests, a tool run by hand) every audience with work goes.
  const ticksLeft = quota === undefined ? 1 : Math.max(1, Math.ceil((quota.resetsAt - now) / settings.tickIntervalMillis))
  const left = quota === undefined ? Number.POSITIVE_INFINITY : Math.max(0, quota.callsLeftToday)
  const evenShare = left / ticksLeft
  const capacity = quota === undefined ? Number.POSITIVE_INFINITY : settings.tickCallCapacity
  const dueCap = Math.min(left, capacity, Math.max(evenShare * settings.dueBurst, 1))
  const earlyCap = Math.min(left, capacity, evenShare)

  const chosen: Array<AudienceKey> = []
  const deferred: Array<AudienceKey> = []
  let spent = 0
  let sharedEmails = 0
  const costOf = (l: AudienceLoad) => listCalls(l) + batches(sharedEmails + sharedOf(l)) - batches(sharedEmails)
  const take = (l: AudienceLoad, cap: number, isDueWork: boolean) => {
    const cost = costOf(l)
    // The first due audience goes whenever any quota is left: a cap below the cost of one sync
    // must not starve it (a large audience takes several ticks; its steps stop at the deadline).
    if (spent + cost <= cap || (isDueWork && chosen.length === 0 && left > 0)) {
      chosen.push(l.key)
      spent += cost
      sharedEmails += sharedOf(l)
    } else deferred.push(l.key)
  }
  for (const l of due) take(l, dueCap, true)
  for (const l of early) {
    if (inboxBacklog) deferred.push(l.key)
    else take(l, earlyCap, false)
  }

  const waitedDue = due.filter((l) => deferred.includes(l.key))
  const honouredLatencyMillis = waitedDue.length === 0
    ? settings.latencyTargetMillis
    : Math.max(settings.latencyTargetMillis, Math.max(...waitedDue.map(age)) + settings.tickIntervalMillis)
  return {
    audiences: chosen,
    deferred,
    estimatedCalls: spent,
    evenShare: Number.isFinite(evenShare) ? evenShare : Number.MAX_SAFE_INTEGER,
    honouredLatencyMillis
  }
}
