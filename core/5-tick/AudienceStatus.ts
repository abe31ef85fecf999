// What the admin API and the status page show: each audience's list, counts, pending work, last
// outcome, and the next plan as a dry run — read from the records, never from Marketo.
import { Data, Effect, Option } from "effect"
import { type AudienceRecord, totals } from "../2-ledger/AudienceRecord.js"
import { encodeRecord, newRecord, readRecord } from "../2-ledger/AudienceShards.js"
import { minDurationSeconds, planCalls } from "../3-plan/CostModel.js"
import type { AudienceKey } from "../1-events/Ids.js"
import { planAudience } from "../3-plan/Planner.js"
import { stagingOf } from "./ImportTiming.js"
import { StateStore } from "../ports/StateStore.js"
import type { ShardSet } from "../2-ledger/LedgerShard.js"
import { pendingJournal } from "../4-apply/StepJournal.js"
import { scanAudiences } from "./AudienceScan.js"
import { collectDelta, defaultDeltaLimits } from "./CollectDelta.js"
import { forgetAudience } from "./ForgetAudience.js"
import type { SyncSettings } from "./SyncSettings.js"
import { readRun, type ReconcileRun } from "./ReconcileRun.js"

export interface AudienceView {
  readonly key: AudienceKey
  readonly audienceClass: AudienceRecord["audienceClass"]
  readonly listName: string
  readonly listId?: number
  /** Emails that should be on the list. */
  readonly desired: number
  /** Emails on the list, as far as the last applied step knows. */
  readonly synced: number
  /** Members without any email (why a list can be smaller than the audience). */
  readonly withoutEmail: number
  /** Emails Marketo refused (not retried until they change). */
  readonly refused: number
  /** Rows bulk imports refused (failures.csv, warnings.csv) since the audience began; each was sent again by upsert + add. */
  readonly importRowsFailed?: number
  /** The list was deleted in Marketo: a new one was created and every member added back. */
  readonly listReplaced?: { readonly previousListId: number; readonly at: number }
  readonly pending: { readonly add: number; readonly remove: number }
  readonly pendingImports: ReadonlyArray<number>
  /** Epoch ms the oldest change still waiting arrived. */
  readonly pendingSince?: number
  readonly lastSync?: AudienceRecord["lastSync"]
  readonly lastError?: AudienceRecord["lastError"]
  readonly progress?: AudienceRecord["progress"]
  /** Removed with "empty": the list is being emptied. */
  readonly removal?: "empty"
  /** The last reconcile that ended: its counts of drift (core/5-tick/Reconcile.ts). */
  readonly lastReconcile?: AudienceRecord["lastReconcile"]
  /** A reconcile is in progress: the ticks carry it on (core/5-tick/ReconcileTick.ts). */
  readonly reconciling?: true
  /** Its last steps failed, and are tried again each tick (core/5-tick/ReconcileRun.ts). */
  readonly reconcileFailing?: NonNullable<ReconcileRun["failing"]>
}

export class InvalidName extends Data.TaggedError("InvalidName")<{ readonly reason: string }> {}

export const toView = (record: AudienceRecord): AudienceView => {
  const t = totals(record)
  return {
    key: record.key,
    audienceClass: record.audienceClass,
    listName: record.displayName ?? record.key,
    ...(record.listId === undefined ? {} : { listId: record.listId }),
    desired: t.desired,
    synced: t.synced,
    withoutEmail: record.withoutEmail,
    refused: t.refused,
    ...(record.importRowsFailed === undefined ? {} : { importRowsFailed: record.importRowsFailed }),
    ...(record.listReplaced === undefined ? {} : { listReplaced: record.listReplaced }),
    pending: { add: t.pendingAdd + t.importing, remove: t.pendingRemove },
    pendingImports: record.pendingImports,
    ...(record.pendingSince === undefined ? {} : { pendingSince: record.pendingSince }),
    ...(record.lastSync === undefined ? {} : { lastSync: record.lastSync }),
    ...(record.lastError === undefined ? {} : { lastError: record.lastError }),
    ...(record.progress === undefined ? {} : { progress: record.progress }),
    ...(record.removal === undefined ? {} : { removal: record.removal }),
    ...(record.lastReconcile === undefined ? {} : { lastReconcile: record.lastReconcile })
  }
}

const withRun = (view: AudienceView, run: Option.Option<ReconcileRun>): AudienceView =>
  Option.match(run, {
    onNone: () => view,
    onSome: (r) => ({ ...view, reconciling: true, ...(r.failing === undefined ? {} : { reconcileFailing: r.failing }) })
  })

/** The audience's run in progress, if any; one that cannot be read is shown as running. */
const runOf = (key: AudienceKey) => readRun(key).pipe(Effect.catchTag("StateStoreFailure", () => Effect.succeed(Option.none<ReconcileRun>())))

export const listAudiences = Effect.gen(function*() {
  const scan = yield* scanAudiences()
  const views: Array<AudienceView> = []
  for (const r of scan.records) views.push(withRun(toView(r), scan.reconciling.includes(r.key) ? yield* runOf(r.key) : Option.none()))
  return views
}).pipe(
  Effect.withSpan("AudienceStatus.listAudiences")
)

export const getAudience = Effect.fn("AudienceStatus.getAudience")(function*(key: AudienceKey) {
  const record = yield* readRecord(key)
  if (Option.isNone(record)) return Option.none<AudienceView>()
  return Option.some(withRun(toView(record.value), yield* runOf(key)))
})

export const dryRun = Effect.fn("AudienceStatus.dryRun")(function*(key: AudienceKey, settings: Pick<SyncSettings, "folderName" | "budget" | "leadFields">) {
  const record = yield* readRecord(key)
  if (Option.isNone(record)) return Option.none()
  // What a stopped tick already did (its journal) is not planned again.
  const slices: ShardSet = new Map()
  const { effects, record: current } = yield* pendingJournal(record.value)
  const delta = yield* collectDelta(current, settings.folderName, defaultDeltaLimits, slices, effects, settings.leadFields)
  // Imported rows as the tick would stage them (core/3-plan/StagedFiles.ts).
  const plan = planAudience(delta, { staging: stagingOf(current, delta, undefined) })
  const calls = planCalls(plan)
  return Option.some({ plan, calls, minDurationSeconds: minDurationSeconds(calls, settings.budget) })
})

/**
 * Stop syncing an audience. "keep": its state goes and the list stays in Marketo as it is.
 * "empty": every member is removed from the list by the next ticks, then the state goes (the
 * empty list stays). Events for the key afterwards start the audience again (adopting its list).
 */
export const removeAudience = Effect.fn("AudienceStatus.removeAudience")(function*(key: AudienceKey, mode: "keep" | "empty") {
  const record = yield* readRecord(key)
  if (Option.isNone(record)) return false
  if (mode === "keep") yield* forgetAudience(key)
  else {
    const store = yield* StateStore
    const [k, v] = encodeRecord({ ...record.value, removal: "empty" })
    yield* store.set(k, v)
  }
  return true
})

/** The list's name in Marketo. A list already created keeps its id (it is not renamed there). */
export const setDisplayName = Effect.fn("AudienceStatus.setDisplayName")(function*(key: AudienceKey, name: string) {
  const trimmed = name.trim()
  if (trimmed.length === 0 || trimmed.length > 255) {
    return yield* new InvalidName({ reason: "the name must be 1 to 255 characters" })
  }
  const store = yield* StateStore
  const record = Option.getOrElse(yield* readRecord(key), () => newRecord(key, "audience"))
  const [k, v] = encodeRecord({ ...record, displayName: trimmed })
  yield* store.set(k, v)
})
