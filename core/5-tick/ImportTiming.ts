// Imports and time, for one tick: which imports in flight are due a poll (from when each is
// expected to have ended), which imports whose answer was lost are due to be looked for, what the
// planner is told of time (how long an import takes here, what is left of the latency target, the
// calls the budget allows before it), and what the tick's polls teach about the instance's import
// latency (kept under one key for every audience: the import queue is the instance's).
import { Effect, Option, Schema } from "effect"
import type { ImportBatchId } from "../1-events/Ids.js"
import { type AudienceRecord, totals } from "../2-ledger/AudienceRecord.js"
import { type ImportInFlight, isImportRef } from "../2-ledger/ImportsInFlight.js"
import { audienceTag } from "../2-ledger/Inbox.js"
import { StateKeys } from "../2-ledger/StateKeys.js"
import { type ImportLatency, ImportLatencyJson, importPollAfterMillis, importUpperMillis, noImportLatency, observeImport } from "../3-plan/ImportLatency.js"
import type { AudienceDelta, ImportCheck } from "../3-plan/PlannedEmail.js"
import type { ImportTiming } from "../3-plan/Planner.js"
import type { Staging } from "../3-plan/StagedFiles.js"
import { StateStore } from "../ports/StateStore.js"

export interface TimingContext {
  readonly now: number
  readonly tickMillis: number
  readonly latencyTargetMillis: number
  /** Calls one audience may spend in a tick (the scheduler's share; unbounded without a quota view). */
  readonly perTickCalls: number
  /** The instance's import latency; the tick's polls update it. */
  readonly latency: { current: ImportLatency }
  /** The inbox tags of the audiences whose changes this tick's fold left in the inbox (FoldInbox.ts). */
  readonly inboxWaiting?: ReadonlySet<string>
}

/**
 * Looked for again this long after a look that found none of its sample on the list: what an import
 * takes here, and at least five minutes, so an import given up on is looked for four times at most.
 */
const recheckMillis = (ctx: TimingContext, rows: number) => Math.max(ctx.tickMillis, 5 * 60_000, importUpperMillis(ctx.latency.current, rows))
/**
 * Given up on (its rows planned again) after this long: three times what an import takes here, and
 * at least ten minutes more than that (the queue is shared: another integration's imports may be
 * ahead of it).
 */
export const giveUpMillis = (ctx: TimingContext, rows: number) => {
  const upper = importUpperMillis(ctx.latency.current, rows)
  return Math.max(3 * upper, upper + 10 * 60_000)
}

const entryOf = (record: AudienceRecord, id: number): ImportInFlight | undefined => record.imports?.find((i) => i.id === id || i.batchId === id)

const pollDue = (ctx: TimingContext, entry: ImportInFlight | undefined, waiting: boolean) =>
  entry === undefined || ctx.now >= entry.sentAt + importPollAfterMillis(ctx.latency.current, entry.rows, ctx.tickMillis, waiting)

/**
 * The polls and checks due now. An import the record knows no sending time of is polled every
 * tick; one with adds of its list waiting behind it, sooner than one without.
 */
export const importsDue = (record: AudienceRecord, ctx: TimingContext) => {
  // Adds wait behind it, or a staged file does.
  const waiting = totals(record).pendingAdd > 0 || record.staged !== undefined
  const polls: Array<ImportBatchId> = record.pendingImports.filter((id) => pollDue(ctx, entryOf(record, id), waiting))
  const checks: Array<ImportCheck> = []
  for (const entry of record.imports ?? []) {
    if (!isImportRef(entry.id) || entry.batchId !== undefined || entry.sample === undefined || entry.sample.length === 0) continue
    const dueAt = entry.checkedAt === undefined
      ? entry.sentAt + importPollAfterMillis(ctx.latency.current, entry.rows, ctx.tickMillis)
      : entry.checkedAt + recheckMillis(ctx, entry.rows)
    if (ctx.now >= dueAt) checks.push({ ref: entry.id, sample: entry.sample, giveUpAt: entry.sentAt + giveUpMillis(ctx, entry.rows) })
  }
  return { polls, checks }
}

/** Polls and checks due now, as the scheduler counts them. */
export const dueImportCalls = (record: AudienceRecord, ctx: TimingContext): number => {
  const due = importsDue(record, ctx)
  return due.polls.length + due.checks.length
}

/** The delta with only the polls and checks due now. */
export const withDueImports = (delta: AudienceDelta, record: AudienceRecord, ctx: TimingContext): AudienceDelta => {
  const due = importsDue(record, ctx)
  return { ...delta, pendingImports: due.polls, importChecks: due.checks }
}

/** What the planner is told of time for this audience; `deltaAdds`, the adds of the delta it plans. */
export const plannerTiming = (record: AudienceRecord, ctx: TimingContext, deltaAdds = 0): ImportTiming => {
  const waited = record.pendingSince === undefined ? 0 : Math.max(0, ctx.now - record.pendingSince)
  const leftMillis = ctx.latencyTargetMillis - waited
  // This tick and the ticks still to come before the target.
  const ticks = 1 + Math.floor(Math.max(0, leftMillis) / ctx.tickMillis)
  return {
    // Sent now, ended by its upper estimate, confirmed by the poll of the tick after.
    confirmMillis: (rows) => importUpperMillis(ctx.latency.current, rows) + ctx.tickMillis,
    leftMillis,
    affordableCalls: ticks * ctx.perTickCalls,
    // Rows in a staged file wait for the list too.
    addsBeyond: Math.max(0, totals(record).pendingAdd - deltaAdds) + (record.staged?.rows ?? 0)
  }
}

/**
 * What the planner is told of the audience's staged file (core/3-plan/StagedFiles.ts): an import
 * stays in flight unless this plan polls or looks for it (then it may have ended: a send planned
 * is skipped if not); more adds wait than this delta holds, in the ledger or still in the inbox (a
 * load the fold has not caught up with: its staged file fills as it folds, rather than going out
 * part-full each time an import ends); and whether to send the file now for
 * the latency target: it can still be confirmed within the target from when it was first staged,
 * and not after one more tick, or it has waited twice the target already. While the fold is behind
 * with the audience (a load: its changes wait in the inbox) only the second holds: the changes
 * behind the file wait past the target whatever it does, so sending it part-full would buy its own
 * rows a few minutes at the cost of an import more; filled, it goes within the fill time.
 */
export const stagingOf = (record: AudienceRecord, delta: AudienceDelta, ctx: TimingContext | undefined): Staging => {
  const polled = new Set<number>(delta.pendingImports)
  for (const check of delta.importChecks ?? []) polled.add(check.ref)
  const blocked = record.pendingImports.some((id) => !polled.has(id)) ||
    (record.imports ?? []).some((i) => isImportRef(i.id) && i.batchId === undefined && !polled.has(i.id))
  const staged = record.staged
  const folding = ctx?.inboxWaiting?.has(audienceTag(record.key)) ?? false
  let sendNow = false
  if (staged !== undefined && ctx !== undefined) {
    const confirm = plannerTiming(record, ctx).confirmMillis(staged.rows)
    const by = staged.since + ctx.latencyTargetMillis
    const lastChance = ctx.now + confirm <= by && ctx.now + ctx.tickMillis + confirm > by
    sendNow = ctx.now - staged.since >= 2 * ctx.latencyTargetMillis || (!folding && lastChance)
  }
  return {
    ...(staged === undefined ? {} : { staged: { columns: staged.columns, bytes: staged.bytes } }),
    blocked,
    more: totals(record).pendingAdd > delta.add.length || folding,
    sendNow
  }
}

/** Whether an import into the audience's list is still queued or running (Marketo refuses another with 1019). */
export const importInFlight = (record: AudienceRecord) => record.pendingImports.length > 0 || (record.imports ?? []).some((i) => isImportRef(i.id))

/** What a poll of `batchId` at `now` showed (ended or still running) teaches about the latency. */
export const observePoll = (ctx: TimingContext, record: AudienceRecord, batchId: ImportBatchId, ended: boolean) => {
  const entry = entryOf(record, batchId)
  if (entry === undefined) return
  ctx.latency.current = observeImport(ctx.latency.current, entry.rows, ctx.now - entry.sentAt, ended, ctx.now)
}

export const readImportLatency = Effect.gen(function*() {
  const store = yield* StateStore
  const stored = yield* Effect.option(store.get(StateKeys.importLatency))
  return Option.flatMap(Option.flatten(stored), Schema.decodeUnknownOption(ImportLatencyJson)).pipe(Option.getOrElse(() => noImportLatency))
})

export const writeImportLatency = (latency: ImportLatency) =>
  Effect.flatMap(StateStore, (store) => store.set(StateKeys.importLatency, Schema.encodeSync(ImportLatencyJson)(latency)))
