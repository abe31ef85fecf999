// Drift repair: people edit lists by hand in Marketo. Reading the list's members back (paged) and
// setting each ledger record's `synced` flag to what Marketo really holds makes the next tick plan
// exactly the adds and removes that make the list right again. Members the ledger does not know
// are recorded with no holder, so the next tick removes them; members without a usable email are
// removed at once by lead id.
//
// A list of any size: the run is started (by the admin route) and then goes in steps, in the
// route itself and in the ticks after it (ReconcileTick.ts), its progress kept in the state store
// (ReconcileRun.ts): pages read and filed by bucket (ReconcilePage.ts), then a sweep of the shards
// (ReconcileSweep.ts), then the report in the audience record (`lastReconcile`).
import { Effect, Option } from "effect"
import type { AudienceRecord } from "../2-ledger/AudienceRecord.js"
import type { AudienceKey } from "../1-events/Ids.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"
import { runSteps, startReconcile } from "./ReconcileSteps.js"

export { reconcileStep, runSteps, startReconcile, type StepOutcome } from "./ReconcileSteps.js"
export { progressOf, readRun } from "./ReconcileRun.js"

export interface ReconcileReport {
  readonly audience: AudienceKey
  readonly membersRead: number
  readonly calls: number
  /** Emails the ledger believed on the list that were not, and the reverse. */
  readonly missing: number
  readonly unexpected: number
  /** Members without a usable email, removed by lead id. */
  readonly strays: number
}

/** Calls a reconcile will make for a list of about `members`: one per page of 300 (at least one). */
export const reconcileCalls = (members: number): number => Math.max(1, Math.ceil((members + 1) / MarketoLimits.batchSize))

export const reconcileCost = (record: AudienceRecord): number =>
  reconcileCalls(Object.values(record.shards).reduce((n, c) => n + c.synced, 0))

/**
 * A whole reconcile at once (a run already in progress is finished): start it and run every step.
 * None when the audience has no list, or when a stopped tick's journal must reach the shards
 * first (the ticks then finish the run). What it holds is a page, then one bucket and one shard.
 */
export const reconcileAudience = Effect.fn("Reconcile.audience")(function*(key: AudienceKey) {
  const started = yield* startReconcile(key)
  if (Option.isNone(started)) return Option.none<ReconcileReport>()
  const { last } = yield* runSteps(key, () => Effect.succeed(true))
  if (last._tag !== "Done") return Option.none<ReconcileReport>()
  const { membersRead, calls, missing, unexpected, strays } = last.report
  return Option.some<ReconcileReport>({ audience: key, membersRead, calls, missing, unexpected, strays })
})
