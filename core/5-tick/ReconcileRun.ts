// A reconcile in progress, kept in the state store under `aud/<key>/reconcile` so that a tick (or
// the admin route) that stops anywhere resumes where the last write left it. It holds no member:
// only Marketo's paging token, the counts so far, and where the sweep is. The members read are
// filed under `recon/<key>/<run>/<bucket>/<page>` (StateKeys), one small value per bucket per page.
import { Clock, Effect, Option, Schema } from "effect"
import type { AudienceKey } from "../1-events/Ids.js"
import { LeadId, ListId } from "../1-events/Ids.js"
import type { AudienceRecord } from "../2-ledger/AudienceRecord.js"
import { StateKeys } from "../2-ledger/StateKeys.js"
import { StateStore, StateStoreFailure } from "../ports/StateStore.js"
import { bucketsFor } from "./ReconcileBuckets.js"

export const ReconcileRun = Schema.Struct({
  /** The run's id: its start in base 36 (keys of its pages carry it). */
  run: Schema.String,
  listId: ListId,
  startedAt: Schema.Number,
  /**
   * The record's journal epoch when the run began: a sync that changed the shards since moves
   * it, and the sweep then checks with Marketo what a page read earlier says (ReconcileSweep.ts).
   */
  epoch: Schema.Number,
  /** Buckets the members are filed in (ReconcileBuckets.ts: no shard of the layout spans two). */
  buckets: Schema.Number,
  phase: Schema.Literal("read", "sweep"),
  /** The next page's number, and Marketo's token for it (none for the first page). */
  page: Schema.Number,
  token: Schema.optional(Schema.String),
  /**
   * Lead ids of the last page's members without a usable email, counted with the page and removed
   * from the list by the next step (so a stop between the two neither loses nor repeats a count).
   */
  removing: Schema.optional(Schema.Array(LeadId)),
  /** Buckets the pages filed members in, sorted: the sweep skips the others that hold no shard. */
  filed: Schema.Array(Schema.Number),
  /** The sweep: the bucket it is in, and the shards of that bucket already written. */
  bucket: Schema.Number,
  shardsDone: Schema.Array(Schema.Number),
  membersRead: Schema.Number,
  calls: Schema.Number,
  missing: Schema.Number,
  unexpected: Schema.Number,
  strays: Schema.Number,
  /**
   * Its last steps failed (the same step, tried again each tick): what failed, when last, how many
   * times in a row. The next step that succeeds writes the run without it.
   */
  failing: Schema.optional(Schema.Struct({ tag: Schema.String, message: Schema.String, at: Schema.Number, times: Schema.Number }))
})
export type ReconcileRun = typeof ReconcileRun.Type
const ReconcileRunJson = Schema.parseJson(ReconcileRun)

/** One bucket's share of one page: [email, lead id] pairs (an email twice when it has duplicate leads). */
export const SeenEntry = Schema.parseJson(Schema.Array(Schema.Tuple(Schema.String, Schema.Number)))

export const runEntry = (key: AudienceKey, run: ReconcileRun): readonly [string, string] =>
  [StateKeys.reconcile(key), Schema.encodeSync(ReconcileRunJson)(run)]

export const readRun = Effect.fn("ReconcileRun.read")(function*(key: AudienceKey) {
  const store = yield* StateStore
  const k = StateKeys.reconcile(key)
  const json = yield* store.get(k)
  if (Option.isNone(json)) return Option.none<ReconcileRun>()
  return Option.some(yield* Schema.decodeUnknown(ReconcileRunJson)(json.value).pipe(
    Effect.mapError((e) => new StateStoreFailure({ key: k, message: `stored value does not decode: ${String(e).slice(0, 200)}` }))
  ))
})

/** A new run over the record's list (the caller checked it has one). */
export const newRun = Effect.fn("ReconcileRun.new")(function*(record: AudienceRecord) {
  const startedAt = yield* Clock.currentTimeMillis
  return {
    run: startedAt.toString(36),
    listId: record.listId!,
    startedAt,
    epoch: record.journalEpoch ?? 0,
    buckets: bucketsFor(record),
    phase: "read",
    page: 0,
    filed: [],
    bucket: 0,
    shardsDone: [],
    membersRead: 0,
    calls: 0,
    missing: 0,
    unexpected: 0,
    strays: 0
  } satisfies ReconcileRun as ReconcileRun
})

/** A run as its next step writes it: a step that succeeds ends what failed before it. */
export const withoutFailure = (run: ReconcileRun): ReconcileRun => {
  if (run.failing === undefined) return run
  const { failing: _, ...rest } = run
  return rest
}

/** The run's step failed: kept with the run, so the status page says so rather than "running". */
export const noteFailure = Effect.fn("ReconcileRun.noteFailure")(function*(key: AudienceKey, reason: { readonly tag: string; readonly message: string }) {
  const found = yield* readRun(key)
  if (Option.isNone(found)) return
  const at = yield* Clock.currentTimeMillis
  const times = (found.value.failing?.times ?? 0) + 1
  yield* (yield* StateStore).set(...runEntry(key, { ...found.value, failing: { tag: reason.tag, message: reason.message.slice(0, 300), at, times } }))
})

/** Every key a run left (its state and the members it filed), for a run ended or given up. */
export const removeRun = Effect.fn("ReconcileRun.remove")(function*(key: AudienceKey) {
  const store = yield* StateStore
  const filed = yield* store.list(StateKeys.reconcileSeenPrefix(key))
  for (let i = 0; i < filed.length; i += 1_000) yield* store.remove(filed.slice(i, i + 1_000))
  yield* store.remove([StateKeys.reconcile(key)])
})

/** What a run in progress has done so far, as the admin API shows it. */
export const progressOf = (run: ReconcileRun) => ({
  run: run.run,
  startedAt: run.startedAt,
  phase: run.phase,
  pagesRead: run.page,
  ...(run.phase === "sweep" ? { bucketsSwept: run.bucket, buckets: run.buckets } : {}),
  membersRead: run.membersRead,
  calls: run.calls,
  missing: run.missing,
  unexpected: run.unexpected,
  strays: run.strays,
  ...(run.failing === undefined ? {} : { failing: run.failing })
})
