// The staged file's steps in a tick (core/3-plan/StagedFiles.ts): what each needs of the record
// before it runs. Rows are staged into the file the record holds (or a new one under the next
// local reference); the file is sent only when no import into the list is in flight (1019), and
// `StagedSending` is journaled first, so a stop or a lost answer leaves its rows marked and the
// import looked for (as any import: core/4-apply/FindImport.ts), never sent twice.
import { Clock, Effect } from "effect"
import type { AudienceRecord } from "../2-ledger/AudienceRecord.js"
import type { ImportRef } from "../2-ledger/ImportsInFlight.js"
import type { ShardSet } from "../2-ledger/LedgerShard.js"
import type { StagedFile } from "../2-ledger/StagedImport.js"
import type { Step } from "../3-plan/Plan.js"
import { isFull } from "../3-plan/StagedFiles.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"
import { deleteParts, type StagingContext } from "../4-apply/StagedImport.js"
import type { StepEffect } from "../4-apply/StepEffect.js"
import { absorb } from "../4-apply/StepJournal.js"
import type { StateStore, StateStoreError } from "../ports/StateStore.js"
import { importInFlight } from "./ImportTiming.js"

/** About how many more rows the staged file has room for (a new file: Marketo's limit over a typical row). */
export const stagedRoomRows = (staged: StagedFile | undefined): number => {
  if (staged === undefined) return Number.POSITIVE_INFINITY
  if (isFull(staged.bytes)) return 0
  const perRow = staged.bytes / Math.max(1, staged.rows)
  return Math.ceil((MarketoLimits.maxImportFileBytes - staged.bytes) / perRow)
}

/** Parts of files sent that a stopped tick left in the store: deleted, and journaled as deleted. */
export const deleteLeftParts = Effect.fn("StagedSteps.deleteLeftParts")(function*(
  record: AudienceRecord,
  checkpoint: (at: AudienceRecord, effects: ReadonlyArray<StepEffect>) => Effect.Effect<void, StateStoreError, StateStore>,
  slices: ShardSet
) {
  let next = record
  for (const left of record.stagedLeft ?? []) {
    const deleted = yield* deleteParts(record.key, left)
    yield* checkpoint(next, deleted)
    next = absorb(next, slices, deleted)
  }
  return next
})

export interface StagedStepRun {
  /** Nothing to do now (another import in flight, or no staged file): the step is skipped. */
  readonly skip: boolean
  readonly record: AudienceRecord
  /** For the interpreter: the staged file and the reference a new one takes. */
  readonly context?: StagingContext
  /** A send journaled: withdrawn (`ImportNotSent`) if Marketo refuses it in its envelope. */
  readonly sending?: { readonly ref: ImportRef; readonly at: number }
}

export const runStagedStep = Effect.fn("StagedSteps.run")(function*(
  step: Step,
  record: AudienceRecord,
  checkpoint: (at: AudienceRecord, effects: ReadonlyArray<StepEffect>) => Effect.Effect<void, StateStoreError, StateStore>,
  slices: ShardSet
) {
  if (step._tag !== "StageRows" && step._tag !== "SendStaged") return { skip: false, record } satisfies StagedStepRun as StagedStepRun
  const at = yield* Clock.currentTimeMillis
  const nextRef = -(record.nextImportRef ?? 1) as ImportRef
  const staged = record.staged
  if (step._tag === "StageRows") return { skip: false, record, context: { audience: record.key, staged, nextRef, at } } satisfies StagedStepRun as StagedStepRun
  if (staged === undefined || importInFlight(record)) return { skip: true, record } satisfies StagedStepRun as StagedStepRun
  const intent: Array<StepEffect> = [{ _tag: "StagedSending", ref: staged.ref, at }]
  yield* checkpoint(record, intent)
  return {
    skip: false,
    record: absorb(record, slices, intent),
    context: { audience: record.key, staged, nextRef, at },
    sending: { ref: staged.ref, at }
  } satisfies StagedStepRun as StagedStepRun
})
