// One audience's share of a tick: read its stopped journal and its delta, take what the tick's
// shared lead calls learned for it, plan, and apply step by step, journaling every step's effects
// (core/4-apply/StepJournal.ts) so a tick stopped anywhere resumes on the next one.
import { layoutOf } from "../2-ledger/ShardSplit.js"
import { Clock, Data, Effect, Option } from "effect"
import type { Email } from "../1-events/Email.js"
import type { AudienceKey, ImportBatchId } from "../1-events/Ids.js"
import { type AudienceRecord, type SyncError, totals, withPendingSince } from "../2-ledger/AudienceRecord.js"
import { shardOf } from "../2-ledger/Sharding.js"
import type { AudienceDelta, PlannedFields } from "../3-plan/PlannedEmail.js"
import { planAudience } from "../3-plan/Planner.js"
import { applyStep } from "../4-apply/Interpreter.js"
import type { ShardSet } from "../2-ledger/LedgerShard.js"
import type { StepEffect } from "../4-apply/StepEffect.js"
import { absorb, flush, journalStep, pendingJournal } from "../4-apply/StepJournal.js"
import type { ImportRef } from "../2-ledger/ImportsInFlight.js"
import type { Step } from "../3-plan/Plan.js"
import { MarketoApi, type MarketoError } from "../ports/MarketoApi.js"
import { importInFlight, observePoll, plannerTiming, stagingOf, type TimingContext, withDueImports } from "./ImportTiming.js"
import { collectDelta, defaultDeltaLimits } from "./CollectDelta.js"
import { deleteLeftParts, runStagedStep, stagedRoomRows } from "./StagedSteps.js"
import { countingCalls } from "./CountingCalls.js"
import { type CallLog, nextCallAt } from "./RateWindow.js"
import { effectsFor, type SharedLeads, withLearned } from "./SharedLeads.js"
import type { SyncSettings } from "./SyncSettings.js"

export interface AudienceTick {
  readonly audience: AudienceKey
  readonly stepsDone: number
  readonly calls: number
  readonly added: number
  readonly removed: number
  readonly remaining: { readonly add: number; readonly remove: number }
  readonly error?: { readonly tag: string; readonly code: string; readonly message: string }
}

export type StopReason = "deadline" | "budget" | "quota"

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

/**
 * While an import into the list is in flight no other can be sent (1019): adds too many for upsert
 * + add within the budget could only wait, so they are not even read this tick (a million-member
 * load would otherwise read 100,000 of them on every tick until its import ends).
 */
const withAddsWaiting = (record: AudienceRecord, settings: SyncSettings, timing: TimingContext): SyncSettings => {
  if (!importInFlight(record)) return settings
  if (2 * Math.ceil(totals(record).pendingAdd / 300) <= plannerTiming(record, timing).affordableCalls) return settings
  const limits = settings.deltaLimits ?? defaultDeltaLimits
  // Staged meanwhile: about as many as the staged file has room for.
  const room = settings.stagedImports === false ? 0 : stagedRoomRows(record.staged)
  return { ...settings, deltaLimits: { ...limits, maxAdds: Math.min(limits.maxAdds, room) } }
}

/** A call on the audience's list answered 1013: the list is gone (a person deleted it in Marketo). */
const isListGone = (step: Step, error: { readonly _tag: string }) =>
  (step._tag === "AddToList" || step._tag === "RemoveFromList" || step._tag === "ImportLeads" || step._tag === "FindImport" || step._tag === "SendStaged") &&
  error._tag === "MarketoRejected" && "code" in error && error.code === "1013"

/** The configured folder is missing: Marketo said 710 when we looked for it or created in it. */
const isFolderMissing = (failure: SyncError) => failure.tag === "MarketoRejected" && failure.code === "710"

/**
 * An audience read ahead of the shared lead calls: a stopped tick's journal read (its effects
 * applied to each shard as it is read), its delta collected, the slices of its shards in memory.
 */
export interface Prepared {
  readonly record: AudienceRecord
  readonly slices: ShardSet
  readonly delta: AudienceDelta
  readonly replayed: ReadonlyArray<StepEffect>
  readonly journalKeys: ReadonlyArray<string>
  readonly nextStep: number
  /** How long reading the journal and the delta took: about what writing the effects back will. */
  readonly readMillis: number
}

export const prepare = Effect.fn("SyncAudience.prepare")(function*(initial: AudienceRecord, settings: SyncSettings) {
  const started = yield* Clock.currentTimeMillis
  const pending = yield* pendingJournal(initial)
  const slices: ShardSet = new Map()
  // Reading gets a part of the time left; the steps and the flush share the rest.
  const readUntil = started + Math.max(0, settings.deadline - started) * readShare
  const delta = yield* collectDelta(pending.record, settings.folderName, settings.deltaLimits ?? defaultDeltaLimits, slices, pending.effects, settings.leadFields, readUntil)
  const readMillis = (yield* Clock.currentTimeMillis) - started
  return { record: pending.record, slices, delta, replayed: pending.effects, journalKeys: pending.keys, nextStep: pending.nextStep, readMillis } satisfies Prepared
})

/**
 * No step starts once the time left is what the flush will need: about one and a half times the
 * reading (the shards it read, read and written again; fewer effects than records). The flush itself stops at the deadline and carries the rest.
 */
const stepsDeadline = (prepared: Prepared, deadline: number) => deadline - flushReserveFactor * prepared.readMillis
const flushReserveFactor = 1.5
/** The share of the time left that reading an audience's delta may take (then the steps, then the flush). */
const readShare = 0.25

export const syncAudience = Effect.fn("SyncAudience.sync")(function*(
  initial: AudienceRecord | Prepared,
  settings: SyncSettings,
  /** Already found this tick: other audiences do not spend a call each to learn it again. */
  folderMissing: SyncError | undefined,
  shared: SharedLeads,
  /** When the tick's calls so far ended (shared across its audiences): no step waits for the window past the deadline. */
  callTimes?: Array<number>,
  /** The tick's time, target and budget share, and the instance's import latency (updated by polls). */
  timing?: TimingContext
) {
  const counter: CallLog = callTimes === undefined ? { calls: 0 } : { calls: 0, times: callTimes }
  const api = countingCalls(yield* MarketoApi, counter)
  const prepared = "delta" in initial ? initial : yield* prepare(initial, timing === undefined ? settings : withAddsWaiting(initial, settings, timing))
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
  const collected = learned.length === 0 ? prepared.delta : withLearned(prepared.delta, learned)
  // Only the polls and checks due now; and time weighed against calls when the tick knows it.
  const delta = timing === undefined ? collected : withDueImports(collected, record, timing)
  const plan = planAudience(delta, {
    ...(timing === undefined ? {} : { timing: plannerTiming(record, timing, delta.add.length) }),
    // An audience being emptied sends no staged file: its rows would join the list it empties.
    ...(settings.stagedImports === false || record.removal !== undefined ? {} : { staging: stagingOf(record, delta, timing) })
  })
  // The lead field values each email's lead is sent with, as the delta collected them.
  const fields = new Map<Email, PlannedFields>()
  for (const e of [...delta.add, ...(delta.update ?? [])]) if (e.fields !== undefined) fields.set(e.email, e.fields)
  let stepsDone = 0
  let added = 0
  let removed = 0
  let stop: StopReason | undefined
  let failure: SyncError | undefined
  record = yield* deleteLeftParts(record, checkpoint, slices)
  record = { ...record, progress: { stepsDone: 0, stepsTotal: plan.steps.length } }
  const lastStepStart = stepsDeadline(prepared, settings.deadline)
  for (const step of plan.steps) {
    const now = yield* Clock.currentTimeMillis
    if (now >= lastStepStart || (callTimes !== undefined && nextCallAt(callTimes, settings.budget, now) >= lastStepStart)) {
      stop = "deadline"
      break
    }
    if (step._tag === "EnsureFolder" && folderMissing !== undefined) {
      failure = { ...folderMissing, at: yield* Clock.currentTimeMillis }
      break
    }
    // Marketo refuses a second import into a list while one is queued or running (1019): the rows
    // wait for a later tick, once the polls before this step have not ended it.
    if (step._tag === "ImportLeads" && importInFlight(record)) {
      stepsDone++
      continue
    }
    // An import is journaled before it is sent: if its answer is lost, or the tick stops before
    // its answer is journaled, its rows stay marked and are looked for, never sent again blindly.
    let sending: { ref: ImportRef; at: number } | undefined
    const staged = yield* runStagedStep(step, record, checkpoint, slices)
    if (staged.skip) {
      stepsDone++
      continue
    }
    record = staged.record
    if (staged.sending !== undefined) sending = staged.sending
    if (step._tag === "ImportLeads") {
      sending = { ref: -(record.nextImportRef ?? 1) as ImportRef, at: yield* Clock.currentTimeMillis }
      const intent: Array<StepEffect> = [{ _tag: "ImportSending", ref: sending.ref, emails: step.emails, at: sending.at }]
      yield* checkpoint(record, intent)
      record = absorb(record, slices, intent)
    }
    const layout = layoutOf(record)
    const context = {
      listId: Option.fromNullable(record.listId),
      recordOf: (email: Email) => slices.get(shardOf(email, layout))?.emails[email],
      fieldsOf: (email: Email) => fields.get(email),
      ...(sending === undefined ? {} : { sending }),
      ...(staged.context === undefined ? {} : { staging: staged.context }),
      markOf: (batchId: ImportBatchId) => record.imports?.find((i) => i.batchId === batchId)?.id as ImportRef | undefined
    }
    const before = counter.calls
    const outcome = yield* Effect.either(
      applyStep(step, context).pipe(Effect.provideService(MarketoApi, api), Effect.catchAllDefect(asStepDefect))
    )
    const stepCalls = counter.calls - before
    if (outcome._tag === "Left" && sending !== undefined && outcome.left._tag !== "StateNotVisible" && outcome.left._tag !== "StateStoreFailure") {
      // Refused in its envelope (or never sent): nothing ran, the rows are free again.
      const notSent: Array<StepEffect> = [{ _tag: "ImportNotSent", ref: sending.ref }]
      yield* checkpoint(record, notSent)
      record = absorb(record, slices, notSent)
    }
    if (outcome._tag === "Left" && isListGone(step, outcome.left) && record.listId !== undefined) {
      // A person deleted the list in Marketo: every member goes onto a new one, from the next tick.
      const lost: Array<StepEffect> = [{ _tag: "ListLost", listId: record.listId, at: yield* Clock.currentTimeMillis }]
      yield* checkpoint(record, lost)
      record = absorb(record, slices, lost)
      yield* Effect.logWarning("list deleted in Marketo; a new one is made and every member added back").pipe(Effect.annotateLogs({ audience: record.key, list: lost[0]!._tag === "ListLost" ? lost[0]!.listId : 0 }))
      stop = undefined
      break
    }
    if (outcome._tag === "Left") {
      const error = outcome.left
      if (error._tag === "StateNotVisible" || error._tag === "StateStoreFailure") return yield* Effect.fail(error)
      failure = syncError(error, yield* Clock.currentTimeMillis)
      stop = stopFor(error)
      yield* (error._tag === "StepDefect" ? Effect.logError("step died") : Effect.logWarning("step failed")).pipe(Effect.annotateLogs({ audience: record.key, step: step._tag, code: failure.code, error: failure.tag, calls: stepCalls, outcome: "failed" }))
      break
    }
    const effects = outcome.right
    if (step._tag === "PollImport" && timing !== undefined) {
      observePoll({ ...timing, now: yield* Clock.currentTimeMillis }, record, step.batchId, effects.some((e) => e._tag === "ImportEnded"))
    }
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
    (counted) => withPendingSince(counted, now),
    settings.deadline
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
