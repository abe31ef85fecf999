// One sync tick for one Marketo instance (the caller holds the instance's sync lease):
// fold the inbox into ledger shards, then for each audience with work plan and apply, journaling
// every step's effects (core/StepJournal.ts) so a tick stopped anywhere resumes on the next one
// with nothing lost.
import { Clock, Data, Effect, Option, Schema } from "effect"
import { type AudienceRecord, type SyncError } from "./AudienceRecord.js"
import {
  collectDelta,
  type DeltaLimits,
  defaultDeltaLimits,
  encodeRecord,
  encodeShard,
  loadShards,
  newRecord,
  readRecord,
  withShardCounts
} from "./AudienceShards.js"
import type { Email } from "./Email.js"
import type { AudienceKey } from "./Ids.js"
import { InboxEntryJson, type InboxEntry } from "./Inbox.js"
import { applyStep } from "./Interpreter.js"
import { foldShard } from "./Ledger.js"
import { MarketoApi, type MarketoError } from "./ports/MarketoApi.js"
import type { MembershipChange } from "./MembershipChange.js"
import type { AudienceDelta } from "./PlannedEmail.js"
import { planAudience } from "./Planner.js"
import { StateStore } from "./ports/StateStore.js"
import { groupByShard, shardOf } from "./Sharding.js"
import type { ShardSet } from "./ShardEffects.js"
import { type AudienceLoad, defaultSchedulerSettings, type QuotaView, scheduleTick, type SchedulerSettings } from "./Scheduler.js"
import { effectsFor, planSharedLeads, resolveSharedLeads, sharedCalls, type SharedLeads, withLearned } from "./SharedLeads.js"
import { StateKeys } from "./StateKeys.js"
import type { StepEffect } from "./StepEffect.js"
import { absorb, flush, journalStep, pendingJournal } from "./StepJournal.js"
import {
  currentMembers,
  foldWithoutEmail,
  type LatestWord,
  UnshardedWithoutEmailJson,
  type WithoutEmail,
  WithoutEmailJson,
  withoutEmailShardOf
} from "./WithoutEmail.js"

export interface SyncSettings {
  readonly folderName: string
  readonly budget: { readonly callsPerWindow: number; readonly windowMillis: number }
  /** Epoch ms: no step starts after it. */
  readonly deadline: number
  /** Inbox entries folded per tick, oldest first (default 200). */
  readonly maxInboxEntries?: number
  /** Stop reading inbox entries once this many characters are read (default 8,000,000). */
  readonly maxInboxBytes?: number
  readonly deltaLimits?: DeltaLimits
  /** What is left of the day's quota: without it every audience with work is synced. */
  readonly quota?: QuotaView
  readonly scheduler?: Partial<SchedulerSettings>
  /** Emails resolved per tick by upserts and lookups shared between audiences (default 3,000). */
  readonly sharedLeadsMaxEmails?: number
}

export interface AudienceTick {
  readonly audience: AudienceKey
  readonly stepsDone: number
  readonly calls: number
  readonly added: number
  readonly removed: number
  readonly remaining: { readonly add: number; readonly remove: number }
  readonly error?: { readonly tag: string; readonly code: string; readonly message: string }
}

export interface TickSummary {
  readonly inboxFolded: number
  readonly changesFolded: number
  readonly audiences: ReadonlyArray<AudienceTick>
  /** Every Marketo call of the tick, the shared lead calls included. */
  readonly calls: number
  /** Upserts and lookups made once for several audiences (core/SharedLeads.ts). */
  readonly sharedCalls: number
  /** Audiences with work the scheduler left for a later tick (quota pacing). */
  readonly deferred: ReadonlyArray<AudienceKey>
  /** The latency the budget lets the scheduler honour now. */
  readonly honouredLatencyMillis: number
  readonly stoppedBy?: "deadline" | "budget" | "quota"
}

// ---------------------------------------------------------------- fold

/** Read in groups of this many entries, so the byte cap is checked as the reading goes. */
const inboxReadConcurrency = 8

const foldInbox = Effect.fn("Sync.foldInbox")(function*(maxEntries: number, maxBytes: number) {
  const store = yield* StateStore
  const all = yield* store.list(StateKeys.inboxPrefix)
  const keys = all.slice(0, maxEntries)
  const entries: Array<readonly [string, InboxEntry]> = []
  let asked = 0
  let bytes = 0
  // Entries hold up to an ingest body each: stop reading past the byte cap (the first group is
  // always read), so a backlog of large batches is folded over several ticks, never all at once.
  // Each group is decoded as it arrives, so no more than a group's JSON text is held at once.
  for (let i = 0; i < keys.length && bytes < maxBytes; i += inboxReadConcurrency) {
    const group = keys.slice(i, i + inboxReadConcurrency)
    asked += group.length
    const texts = yield* Effect.forEach(group, (key) =>
      store.get(key).pipe(
        // Not visible here yet: it waits for a later tick. The others go ahead: folding is
        // last-writer-wins by event time, so the order in which entries are folded does not matter.
        Effect.catchTag("StateNotVisible", () => Effect.succeed(Option.none<string>())),
        Effect.map((json) => [key, json] as const)
      ), { concurrency: inboxReadConcurrency })
    for (const [key, json] of texts) {
      if (Option.isNone(json)) continue
      bytes += json.value.length
      const entry = Schema.decodeUnknownOption(InboxEntryJson)(json.value)
      if (Option.isNone(entry)) {
        yield* Effect.logError("inbox entry does not decode; left in place").pipe(Effect.annotateLogs({ key }))
        continue
      }
      entries.push([key, entry.value])
    }
  }
  const byAudience = new Map<AudienceKey, { changes: Array<MembershipChange>; withoutEmail: Array<InboxEntry["withoutEmail"][number]>; receivedAt: number }>()
  const slot = (audience: AudienceKey, receivedAt: number) => {
    const existing = byAudience.get(audience)
    if (existing !== undefined) {
      existing.receivedAt = Math.min(existing.receivedAt, receivedAt)
      return existing
    }
    const created = { changes: [], withoutEmail: [], receivedAt }
    byAudience.set(audience, created)
    return created
  }
  for (const [, entry] of entries) {
    for (const change of entry.changes) slot(change.audience, entry.receivedAt).changes.push(change)
    for (const member of entry.withoutEmail) slot(member.audience, entry.receivedAt).withoutEmail.push(member)
  }
  let changes = 0
  for (const [audience, batch] of byAudience) {
    changes += batch.changes.length
    yield* foldAudience(audience, batch.changes, batch.withoutEmail, batch.receivedAt)
  }
  // Only now, with every fold written, may the entries go: a crash before this re-folds them, harmlessly.
  yield* store.remove(entries.map(([key]) => key))
  // Entries left unread by the caps: more of the changes are still to come.
  return { entries: entries.length, changes, backlog: all.length > asked }
})

/** Ledger shards read, folded and written together. */
const foldShardsAtOnce = 2

const foldAudience = Effect.fn("Sync.foldAudience")(function*(
  audience: AudienceKey,
  changes: ReadonlyArray<MembershipChange>,
  withoutEmail: InboxEntry["withoutEmail"],
  receivedAt: number
) {
  const store = yield* StateStore
  const first = changes[0] ?? withoutEmail[0]
  const latestExternal = [...changes].reverse().find((c) => c.externalListId !== undefined)?.externalListId
  let record = Option.getOrElse(yield* readRecord(audience), () => newRecord(audience, first?.audienceClass ?? "audience"))
  if (first !== undefined) record = { ...record, audienceClass: first.audienceClass }
  if (latestExternal !== undefined && record.listId === undefined) record = { ...record, externalListId: latestExternal }
  const groups = [...groupByShard(changes, record.shardCount)]
  // Two shards at a time (read, fold, write), so a fold touching every shard of a million-member
  // audience never holds it whole. The record, with the counts, is written last: a stop in between
  // leaves the inbox entries in place and the next tick folds them again, which changes nothing.
  for (let i = 0; i < groups.length; i += foldShardsAtOnce) {
    const part = groups.slice(i, i + foldShardsAtOnce)
    const shards = yield* loadShards(audience, part.map(([n]) => n))
    // The shards were decoded just now for this fold: folding in place saves copying every record.
    for (const [n, group] of part) shards.set(n, foldShard(shards.get(n)!, group, { inPlace: true }))
    record = withShardCounts(record, shards)
    yield* store.setMany([...shards.values()].map((s) => encodeShard(audience, s)))
  }
  record = withPendingSince(record, receivedAt)
  const writes: Array<readonly [string, string]> = []
  const noEmail = withoutEmail.length > 0 ? yield* foldNoEmail(audience, withoutEmail) : undefined
  if (noEmail !== undefined) {
    record = { ...record, withoutEmail: Math.max(0, record.withoutEmail + noEmail.countChange) }
    writes.push(...noEmail.writes)
  }
  writes.push(encodeRecord(record))
  yield* store.setMany(writes)
  if (noEmail?.legacyKey !== undefined) yield* store.remove([noEmail.legacyKey])
})

const pendingCount = (record: AudienceRecord) =>
  Object.values(record.shards).reduce((n, c) => n + c.pendingAdd + c.pendingRemove, 0)

/** Keep the arrival of the oldest change still waiting; none when nothing waits. */
const withPendingSince = (record: AudienceRecord, arrivedAt: number): AudienceRecord => {
  const { pendingSince, ...rest } = record
  if (pendingCount(record) === 0) return rest
  return { ...rest, pendingSince: Math.min(pendingSince ?? arrivedAt, arrivedAt) }
}

/**
 * Fold members without email into the touched shards of `aud/<key>/noemail/<n>`; the record's
 * count moves by what changed in those shards, so untouched shards are never read.
 */
const foldNoEmail = Effect.fn("Sync.foldNoEmail")(function*(audience: AudienceKey, members: ReadonlyArray<LatestWord>) {
  const store = yield* StateStore
  // An earlier layout kept one value per audience, already counted in the record: it joins the
  // shards' "before" state, so the count stays right, and is deleted once the shards are written.
  const legacyKey = StateKeys.withoutEmailUnsharded(audience)
  const legacy = Option.flatMap(yield* store.get(legacyKey), Schema.decodeUnknownOption(UnshardedWithoutEmailJson))
  const legacyWords = Option.match(legacy, {
    onNone: (): Array<LatestWord> => [],
    onSome: (l) => Object.entries(l).map(([user, word]) => ({ user, ...word }))
  })
  const byShard = (words: ReadonlyArray<LatestWord>) => {
    const groups = new Map<number, Array<LatestWord>>()
    for (const w of words) {
      const n = withoutEmailShardOf(w.user)
      groups.set(n, [...(groups.get(n) ?? []), w])
    }
    return groups
  }
  const incoming = byShard(members)
  const old = byShard(legacyWords)
  const numbers = [...new Set([...incoming.keys(), ...old.keys()])]
  const keys = numbers.map((n) => StateKeys.withoutEmail(audience, n))
  const stored = yield* store.getMany(keys)
  let countChange = 0
  const writes: Array<readonly [string, string]> = []
  for (const [i, n] of numbers.entries()) {
    const current = Option.getOrElse(
      Option.flatMap(stored.get(keys[i]!) ?? Option.none(), Schema.decodeUnknownOption(WithoutEmailJson)),
      (): WithoutEmail => []
    )
    const before = foldWithoutEmail(current, old.get(n) ?? [])
    const after = foldWithoutEmail(before, incoming.get(n) ?? [])
    countChange += currentMembers(after) - currentMembers(before)
    writes.push([keys[i]!, Schema.encodeSync(WithoutEmailJson)(after)])
  }
  return { writes, countChange, legacyKey: Option.isSome(legacy) ? legacyKey : undefined }
})

// ---------------------------------------------------------------- apply

type StopReason = "deadline" | "budget" | "quota"

/**
 * A step died: a bug in planning or interpreting. The audience stops with it as its lastError,
 * loud in the logs, and the other audiences go on rather than one audience stopping every tick.
 */
class StepDefect extends Data.TaggedError("StepDefect")<{ readonly code: "defect"; readonly message: string }> {}

const asStepDefect = (defect: unknown) =>
  Effect.fail(new StepDefect({ code: "defect", message: (defect instanceof Error ? defect.message : String(defect)).slice(0, 500) }))

const syncError = (error: MarketoError | StepDefect, at: number): SyncError =>
  error._tag === "BudgetExhausted"
    ? { tag: error._tag, code: error.reason === "marketo-607" ? "607" : "quota", message: `daily budget spent; resumes at ${new Date(error.resumesAt).toISOString()}`, at }
    : { tag: error._tag, code: error.code, message: error.message, at }

const stopFor = (error: MarketoError | StepDefect): StopReason | undefined =>
  error._tag === "BudgetExhausted" || error._tag === "MarketoQuotaExhausted" ? "quota" : undefined

/** The port, counting the calls made through it (a failed call was still spent). */
const countingCalls = (api: MarketoApi["Type"], counter: { calls: number }): MarketoApi["Type"] => {
  const counted = {} as Record<string, unknown>
  for (const [name, f] of Object.entries(api) as Array<[string, (...args: Array<unknown>) => Effect.Effect<unknown, unknown>]>) {
    counted[name] = (...args: Array<unknown>) => Effect.suspend(() => {
      counter.calls++
      return f(...args)
    })
  }
  return counted as MarketoApi["Type"]
}

/** The configured folder is missing: Marketo said 710 when we looked for it or created in it. */
const isFolderMissing = (failure: SyncError) => failure.tag === "MarketoRejected" && failure.code === "710"

/**
 * An audience read ahead of the shared lead calls: a stopped tick's journal read (its effects
 * applied to each shard as it is read), its delta collected, the slices of its shards in memory.
 */
interface Prepared {
  readonly record: AudienceRecord
  readonly slices: ShardSet
  readonly delta: AudienceDelta
  readonly replayed: ReadonlyArray<StepEffect>
  readonly journalKeys: ReadonlyArray<string>
  readonly nextStep: number
}

const prepare = Effect.fn("Sync.prepare")(function*(initial: AudienceRecord, settings: SyncSettings) {
  const pending = yield* pendingJournal(initial)
  const slices: ShardSet = new Map()
  const delta = yield* collectDelta(pending.record, settings.folderName, settings.deltaLimits ?? defaultDeltaLimits, slices, pending.effects)
  return { record: pending.record, slices, delta, replayed: pending.effects, journalKeys: pending.keys, nextStep: pending.nextStep } satisfies Prepared
})

const syncAudience = Effect.fn("Sync.audience")(function*(
  initial: AudienceRecord | Prepared,
  settings: SyncSettings,
  /** Already found this tick: other audiences do not spend a call each to learn it again. */
  folderMissing: SyncError | undefined,
  shared: SharedLeads
) {
  const counter = { calls: 0 }
  const api = countingCalls(yield* MarketoApi, counter)
  const prepared = "delta" in initial ? initial : yield* prepare(initial, settings)
  const { slices } = prepared
  // Every effect of this tick, the replayed journal's first: applied to the whole shards at the end.
  const tickEffects: Array<StepEffect> = [...prepared.replayed]
  const journal: Array<string> = [...prepared.journalKeys]
  let nextStep = prepared.nextStep
  const checkpoint = (at: AudienceRecord, effects: ReadonlyArray<StepEffect>) =>
    Effect.map(journalStep(at, nextStep++, effects), (key) => {
      journal.push(key)
      tickEffects.push(...effects)
    })
  // What the tick's shared upserts and lookups learned for this audience, and its delta with it:
  // the emails they resolved now have lead ids (or are refused, or have no lead to remove).
  // Journaled like a step, so a tick stopped later does not make those calls again.
  const learned = effectsFor(prepared.delta, shared)
  if (learned.length > 0) yield* checkpoint(prepared.record, learned)
  let record = learned.length === 0 ? prepared.record : absorb(prepared.record, slices, learned)
  const delta = learned.length === 0 ? prepared.delta : withLearned(prepared.delta, learned)
  const plan = planAudience(delta)
  let stepsDone = 0
  let added = 0
  let removed = 0
  let stop: StopReason | undefined
  let failure: SyncError | undefined
  record = { ...record, progress: { stepsDone: 0, stepsTotal: plan.steps.length } }
  for (const step of plan.steps) {
    if ((yield* Clock.currentTimeMillis) >= settings.deadline) {
      stop = "deadline"
      break
    }
    if (step._tag === "EnsureFolder" && folderMissing !== undefined) {
      failure = { ...folderMissing, at: yield* Clock.currentTimeMillis }
      break
    }
    const context = {
      listId: Option.fromNullable(record.listId),
      recordOf: (email: Email) => slices.get(shardOf(email, record.shardCount))?.emails[email]
    }
    const before = counter.calls
    const outcome = yield* Effect.either(
      applyStep(step, context).pipe(Effect.provideService(MarketoApi, api), Effect.catchAllDefect(asStepDefect))
    )
    const stepCalls = counter.calls - before
    if (outcome._tag === "Left") {
      const error = outcome.left
      if (error._tag === "StateNotVisible" || error._tag === "StateStoreFailure") return yield* Effect.fail(error)
      failure = syncError(error, yield* Clock.currentTimeMillis)
      stop = stopFor(error)
      yield* (error._tag === "StepDefect" ? Effect.logError("step died") : Effect.logWarning("step failed")).pipe(Effect.annotateLogs({ audience: record.key, step: step._tag, code: failure.code, error: failure.tag, calls: stepCalls, outcome: "failed" }))
      break
    }
    const effects = outcome.right
    // The checkpoint: this step's effects alone, one small write, before anything else uses them.
    if (effects.length > 0) yield* checkpoint(record, effects)
    record = absorb(record, slices, effects)
    stepsDone++
    record = { ...record, progress: { stepsDone, stepsTotal: plan.steps.length } }
    for (const e of effects) {
      if (e._tag === "MembershipConfirmed") (e.synced ? (added += e.emails.length) : (removed += e.emails.length))
    }
    yield* Effect.logInfo("step").pipe(Effect.annotateLogs({ audience: record.key, step: step._tag, calls: stepCalls, outcome: "done" }))
  }
  const now = yield* Clock.currentTimeMillis
  const calls = counter.calls
  const { progress: _p, ...rest } = record
  const finished: AudienceRecord = {
    ...(stepsDone === plan.steps.length ? rest : record),
    ...(plan.steps.length === 0 && failure === undefined ? {} : {
      lastSync: { at: now, outcome: failure !== undefined ? "error" : stepsDone === plan.steps.length ? "ok" : "partial", calls }
    }),
    ...(failure !== undefined ? { lastError: failure } : {})
  }
  const flushed = yield* flush(
    failure === undefined && stepsDone === plan.steps.length && plan.steps.length > 0
      ? (({ lastError: _e, ...r }) => r)(finished) as AudienceRecord
      : finished,
    tickEffects,
    journal,
    (counted) => withPendingSince(counted, now)
  )
  const remaining = Object.values(flushed.shards).reduce((s, c) => ({ add: s.add + c.pendingAdd, remove: s.remove + c.pendingRemove }), { add: 0, remove: 0 })
  const tick: AudienceTick = {
    audience: record.key,
    stepsDone,
    calls,
    added,
    removed,
    remaining,
    ...(failure === undefined ? {} : { error: { tag: failure.tag, code: failure.code, message: failure.message } })
  }
  return { tick, stop, folderMissing: failure !== undefined && isFolderMissing(failure) ? failure : folderMissing }
})

const hasWork = (record: AudienceRecord) =>
  record.removal !== undefined ||
  record.progress !== undefined ||
  record.pendingImports.length > 0 ||
  Object.values(record.shards).some((c) => c.pendingAdd > 0 || c.pendingRemove > 0)

/** A removed audience whose list is now empty: its state goes (the empty list stays in Marketo). */
const forgetIfEmptied = Effect.fn("Sync.forgetIfEmptied")(function*(key: AudienceKey) {
  const record = yield* readRecord(key)
  if (Option.isNone(record) || Object.values(record.value.shards).some((c) => c.synced > 0)) return
  yield* forgetAudience(key)
})

/** Delete every key of an audience: its record, shards, journal and members without email. */
export const forgetAudience = Effect.fn("Sync.forgetAudience")(function*(key: AudienceKey) {
  const store = yield* StateStore
  const own = StateKeys.audience(key)
  const keys = (yield* store.list(`${own}/`)).concat([own])
  yield* store.remove(keys)
  yield* Effect.logInfo("audience forgotten").pipe(Effect.annotateLogs({ audience: key }))
})

/** Every audience record, and which audiences have journal entries left (from one listing). */
const scanAudiences = Effect.fn("Sync.scanAudiences")(function*() {
  const store = yield* StateStore
  const all = yield* store.list(StateKeys.audiencePrefix)
  const records: Array<AudienceRecord> = []
  const withJournal = new Set<string>()
  for (const key of all) {
    if (StateKeys.isAudienceRecord(key)) {
      const record = yield* readRecord(decodeURIComponent(key.slice(StateKeys.audiencePrefix.length)) as AudienceKey)
      if (Option.isSome(record)) records.push(record.value)
    } else if (key.includes("/journal/")) withJournal.add(key.slice(0, key.indexOf("/journal/")))
  }
  return { records, withJournal }
})

export const listRecords = Effect.fn("Sync.listRecords")(function*() {
  return (yield* scanAudiences()).records
})

/** What the scheduler needs to know of an audience, from its record alone. */
const loadOf = (record: AudienceRecord, withJournal: boolean): AudienceLoad => {
  const counts = Object.values(record.shards)
  return {
    key: record.key,
    pendingAdd: record.removal === "empty" ? 0 : counts.reduce((n, c) => n + c.pendingAdd, 0),
    pendingRemove: record.removal === "empty" ? counts.reduce((n, c) => n + c.synced, 0) : counts.reduce((n, c) => n + c.pendingRemove, 0),
    ...(record.pendingSince === undefined ? {} : { pendingSince: record.pendingSince }),
    unfinished: withJournal || record.progress !== undefined || record.removal !== undefined,
    hasList: record.listId !== undefined || record.externalListId !== undefined,
    pendingImports: record.pendingImports.length
  }
}

/**
 * The audiences the scheduler weighs: those with work, and those with journal entries left behind
 * (a tick stopped before or after writing its shards), which are replayed or deleted even when the
 * audience has nothing else to do.
 */
const scheduleLoads = (scan: { readonly records: ReadonlyArray<AudienceRecord>; readonly withJournal: ReadonlySet<string> }) => {
  const hasJournal = (r: AudienceRecord) => scan.withJournal.has(StateKeys.audience(r.key))
  return scan.records.filter((r) => hasWork(r) || hasJournal(r)).map((r) => loadOf(r, hasJournal(r)))
}

/** What the scheduler would decide now: the status page shows the latency it can honour. */
export const currentSchedule = Effect.fn("Sync.currentSchedule")(function*(quota: QuotaView | undefined, scheduler: Partial<SchedulerSettings> = {}) {
  const loads = scheduleLoads(yield* scanAudiences())
  return scheduleTick(loads, yield* Clock.currentTimeMillis, quota, { ...defaultSchedulerSettings, ...scheduler })
})

/** Emails one tick resolves with shared upserts and lookups (ten calls); larger deltas plan alone. */
const defaultSharedLeadsMaxEmails = 3_000

export const runTick = Effect.fn("Sync.runTick")(function*(settings: SyncSettings) {
  const folded = yield* foldInbox(settings.maxInboxEntries ?? 200, settings.maxInboxBytes ?? 8_000_000)
  const audiences: Array<AudienceTick> = []
  let stoppedBy: StopReason | undefined
  const scan = yield* scanAudiences()
  const byKey = new Map(scan.records.map((r) => [r.key, r]))
  const loads = scheduleLoads(scan)
  const schedule = scheduleTick(loads, yield* Clock.currentTimeMillis, settings.quota, { ...defaultSchedulerSettings, ...settings.scheduler }, folded.backlog)

  // Read ahead the small deltas (up to the shared cap in all) and resolve their unknown leads once.
  const sharedMax = settings.sharedLeadsMaxEmails ?? defaultSharedLeadsMaxEmails
  const prepared = new Map<AudienceKey, Prepared>()
  let preparedEmails = 0
  for (const key of schedule.audiences) {
    const load = loads.find((l) => l.key === key)!
    const pending = load.pendingAdd + load.pendingRemove
    // An audience without its list yet ensures it (and the folder) first: no lead is created for
    // a list that cannot exist.
    if (!load.hasList || byKey.get(key)!.removal !== undefined || pending === 0 || preparedEmails + pending > sharedMax) continue
    prepared.set(key, yield* prepare(byKey.get(key)!, settings))
    preparedEmails += pending
  }
  const sharedCounter = { calls: 0 }
  const sharedPlan = planSharedLeads([...prepared.values()].map((p) => p.delta), sharedMax)
  const resolved = sharedCalls(sharedPlan) === 0
    ? { outcomes: new Map() as SharedLeads, stop: undefined }
    : yield* resolveSharedLeads(sharedPlan, settings.deadline).pipe(
      Effect.provideServiceEffect(MarketoApi, Effect.map(MarketoApi, (api) => countingCalls(api, sharedCounter)))
    )
  if (resolved.stop === "quota") stoppedBy = "quota"

  let folderMissing: SyncError | undefined
  for (const key of stoppedBy === undefined ? schedule.audiences : []) {
    if ((yield* Clock.currentTimeMillis) >= settings.deadline) {
      stoppedBy = "deadline"
      break
    }
    const record = byKey.get(key)!
    const { folderMissing: missing, stop, tick } = yield* syncAudience(prepared.get(key) ?? record, settings, folderMissing, resolved.outcomes)
    folderMissing = missing
    audiences.push(tick)
    if (record.removal === "empty" && tick.error === undefined) yield* forgetIfEmptied(record.key)
    if (stop !== undefined) {
      stoppedBy = stop
      if (stop !== "deadline") break
    }
  }
  const summary: TickSummary = {
    inboxFolded: folded.entries,
    changesFolded: folded.changes,
    audiences,
    calls: sharedCounter.calls + audiences.reduce((n, a) => n + a.calls, 0),
    sharedCalls: sharedCounter.calls,
    deferred: schedule.deferred,
    honouredLatencyMillis: schedule.honouredLatencyMillis,
    ...(stoppedBy === undefined ? {} : { stoppedBy })
  }
  yield* Effect.logInfo("tick").pipe(Effect.annotateLogs({
    inbox: summary.inboxFolded,
    changes: summary.changesFolded,
    calls: summary.calls,
    sharedCalls: summary.sharedCalls,
    audiences: audiences.length,
    deferred: schedule.deferred.length,
    stoppedBy: stoppedBy ?? "done"
  }))
  return summary
})
