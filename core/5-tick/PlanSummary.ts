// The status page shows each audience's next plan in brief. Planning reads the pending indexes of
// the audience's shards with work, too much to do on every load of a large audience's page, so the
// summary is kept under `aud/<key>/plansummary` with what it was computed from: the record, the
// journal a stopped tick left, the folder, the budget and the lead fields sent. A load reads the record, lists the
// journal and reads the summary; the shards are read again only once one of those has changed.
import { Effect, Option, Schema } from "effect"
import type { AudienceKey } from "../1-events/Ids.js"
import { AudienceRecordJson } from "../2-ledger/AudienceRecord.js"
import { readRecord } from "../2-ledger/AudienceShards.js"
import { StateKeys } from "../2-ledger/StateKeys.js"
import { StateStore } from "../ports/StateStore.js"
import { dryRun } from "./AudienceStatus.js"
import type { SyncSettings } from "./SyncSettings.js"

const Summary = Schema.Struct({
  /** What the summary was computed from; a summary whose source differs is computed again. */
  source: Schema.String,
  calls: Schema.Number,
  minDurationSeconds: Schema.Number,
  /** "UpsertLeads ×3", "AddToList": the plan's steps, run-length encoded for a person. */
  steps: Schema.Array(Schema.String)
})
const SummaryJson = Schema.parseJson(Summary)
export type PlanSummary = Omit<typeof Summary.Type, "source">

export const planSummaryKey = (key: AudienceKey) => `${StateKeys.audience(key)}/plansummary`

export const summarizeSteps = (steps: ReadonlyArray<{ readonly _tag: string }>): ReadonlyArray<string> => {
  const out: Array<[string, number]> = []
  for (const step of steps) {
    const last = out[out.length - 1]
    if (last !== undefined && last[0] === step._tag) last[1]++
    else out.push([step._tag, 1])
  }
  return out.map(([tag, n]) => (n === 1 ? tag : `${tag} ×${n}`))
}

/** The next plan of an audience in brief, from the kept summary while its source is unchanged. */
export const planSummary = Effect.fn("PlanSummary.get")(function*(key: AudienceKey, settings: Pick<SyncSettings, "folderName" | "budget" | "leadFields">) {
  const store = yield* StateStore
  const record = yield* readRecord(key)
  if (Option.isNone(record)) return Option.none<PlanSummary>()
  const journal = yield* store.list(StateKeys.journalPrefix(key))
  const source = JSON.stringify([Schema.encodeSync(AudienceRecordJson)(record.value), journal, settings.folderName, settings.budget, settings.leadFields ?? null])
  const kept = Option.flatMap(yield* store.get(planSummaryKey(key)), Schema.decodeUnknownOption(SummaryJson))
  if (Option.isSome(kept) && kept.value.source === source) {
    const { source: _s, ...summary } = kept.value
    return Option.some<PlanSummary>(summary)
  }
  const planned = yield* dryRun(key, settings)
  if (Option.isNone(planned)) return Option.none<PlanSummary>()
  const summary: PlanSummary = { calls: planned.value.calls, minDurationSeconds: planned.value.minDurationSeconds, steps: summarizeSteps(planned.value.plan.steps) }
  // Keeping it is a convenience: a page that cannot write it still shows the plan.
  yield* Effect.ignore(store.set(planSummaryKey(key), Schema.encodeSync(SummaryJson)({ source, ...summary })))
  return Option.some(summary)
})
