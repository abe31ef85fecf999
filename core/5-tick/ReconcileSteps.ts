// A reconcile as steps, each one read of the run's state and one write of it: a page read
// (ReconcilePage.ts), a shard swept or a bucket closed (ReconcileSweep.ts), or the end (the report
// written to the audience record, the run's keys deleted). Whoever runs them (a tick, the admin
// route) may stop between any two, or inside one, and the next step resumes from what was written.
import { Clock, Effect, Option } from "effect"
import type { AudienceKey } from "../1-events/Ids.js"
import { type AudienceRecord } from "../2-ledger/AudienceRecord.js"
import { encodeRecord, readRecord } from "../2-ledger/AudienceShards.js"
import { StateKeys } from "../2-ledger/StateKeys.js"
import { StateStore } from "../ports/StateStore.js"
import { readPage, removeStrays } from "./ReconcilePage.js"
import { newRun, readRun, type ReconcileRun, removeRun, runEntry, withoutFailure } from "./ReconcileRun.js"
import { type Bucket, closeBucket, loadBucket, nextBucket, shardsLeft, sweepShard } from "./ReconcileSweep.js"

export type ReconcileReportOf = NonNullable<AudienceRecord["lastReconcile"]>

export type StepOutcome =
  /** `held`: the members and records the step held; `calls`: the Marketo calls it made. */
  | { readonly _tag: "Page" | "Strays" | "Shard" | "Bucket"; readonly run: ReconcileRun; readonly held: number; readonly calls: number }
  /** A stopped tick's journal is waiting to be written to the shards: the sweep waits for the sync. */
  | { readonly _tag: "Waiting"; readonly run: ReconcileRun }
  | { readonly _tag: "Done"; readonly report: ReconcileReportOf }
  /** No run, or one given up: the audience or its list is gone, or it is being removed. */
  | { readonly _tag: "None" }

/** Start a run over the audience's list, or find the one in progress. None: no audience, or no list yet. */
export const startReconcile = Effect.fn("Reconcile.start")(function*(key: AudienceKey) {
  const running = yield* readRun(key)
  if (Option.isSome(running)) return running
  const record = yield* readRecord(key)
  if (Option.isNone(record) || record.value.listId === undefined || record.value.removal !== undefined) return Option.none<ReconcileRun>()
  const run = yield* newRun(record.value)
  const store = yield* StateStore
  yield* store.set(...runEntry(key, run))
  yield* Effect.logInfo("reconcile started").pipe(Effect.annotateLogs({ audience: key, run: run.run }))
  return Option.some(run)
})

/** Members of one bucket, kept between the steps of one runner so a bucket of several shards is read once. */
export interface StepCache {
  bucket?: Bucket
}

export const reconcileStep = Effect.fn("Reconcile.step")(function*(key: AudienceKey, cache: StepCache = {}) {
  const stored = yield* readRun(key)
  if (Option.isNone(stored)) return { _tag: "None" } satisfies StepOutcome as StepOutcome
  const current = withoutFailure(stored.value)
  const record = yield* readRecord(key)
  if (Option.isNone(record) || record.value.listId !== current.listId || record.value.removal !== undefined) {
    yield* removeRun(key)
    yield* Effect.logInfo("reconcile given up: the audience or its list changed").pipe(Effect.annotateLogs({ audience: key, run: current.run }))
    return { _tag: "None" } satisfies StepOutcome as StepOutcome
  }
  if ((current.removing?.length ?? 0) > 0) {
    const removed = yield* removeStrays(key, current)
    return { _tag: "Strays", ...removed } satisfies StepOutcome as StepOutcome
  }
  if (current.phase === "read") {
    const page = yield* readPage(key, current)
    return { _tag: "Page", ...page } satisfies StepOutcome as StepOutcome
  }
  const bucketNow = nextBucket(record.value, current)
  // The buckets skipped are written with the next step's write.
  const run: ReconcileRun = bucketNow === current.bucket ? current : { ...current, bucket: bucketNow, shardsDone: [] }
  if (run.bucket >= run.buckets) return yield* finish(key, record.value, run)
  const store = yield* StateStore
  if ((yield* store.list(StateKeys.journalPrefix(key))).length > 0) return { _tag: "Waiting", run } satisfies StepOutcome as StepOutcome
  const bucket = cache.bucket !== undefined && cache.bucket.run === run.run && cache.bucket.bucket === run.bucket
    ? cache.bucket
    : yield* loadBucket(key, run)
  cache.bucket = bucket
  const left = shardsLeft(record.value, run, bucket)
  if (left.length === 0) {
    delete cache.bucket
    return { _tag: "Bucket", run: yield* closeBucket(key, run, bucket), held: 0, calls: 0 } satisfies StepOutcome as StepOutcome
  }
  const swept = yield* sweepShard(key, record.value, run, bucket, left[0]!)
  return { _tag: "Shard", ...swept } satisfies StepOutcome as StepOutcome
})

/** The report kept in the audience record (written first: a stop before the run's keys go writes it again). */
const finish = Effect.fn("Reconcile.finish")(function*(key: AudienceKey, record: AudienceRecord, run: ReconcileRun) {
  const store = yield* StateStore
  const report: ReconcileReportOf = {
    run: run.run,
    startedAt: run.startedAt,
    at: yield* Clock.currentTimeMillis,
    membersRead: run.membersRead,
    calls: run.calls,
    missing: run.missing,
    unexpected: run.unexpected,
    strays: run.strays
  }
  yield* store.set(...encodeRecord({ ...record, lastReconcile: report }))
  yield* removeRun(key)
  yield* Effect.logInfo("reconciled").pipe(Effect.annotateLogs({ audience: key, ...report }))
  return { _tag: "Done", report } satisfies StepOutcome as StepOutcome
})

/**
 * Steps of the audience's run while `mayGo` allows (asked before each, with the calls made so
 * far): the last outcome, and the calls made.
 */
export const runSteps = Effect.fn("Reconcile.runSteps")(function*(
  key: AudienceKey,
  mayGo: (calls: number) => Effect.Effect<boolean>,
  onStep: (outcome: StepOutcome) => void = () => {}
) {
  const cache: StepCache = {}
  let calls = 0
  let last: StepOutcome = { _tag: "None" }
  while (yield* mayGo(calls)) {
    last = yield* reconcileStep(key, cache)
    onStep(last)
    if (last._tag !== "Done" && last._tag !== "None" && last._tag !== "Waiting") calls += last.calls
    if (last._tag === "Done" || last._tag === "None" || last._tag === "Waiting") break
  }
  return { last, calls }
})
