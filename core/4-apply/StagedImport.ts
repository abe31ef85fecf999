// Running the staged file's steps: a part of rows written to the store (no call), and the file sent
// as one bulk import whose body is its parts read one at a time from the store and streamed, so
// no tick holds the file. The sync journals `StagedSending` before the send (as `ImportSending`
// before any import): an answer lost leaves the rows marked and the file is looked for, never sent
// again blindly. The parts are deleted once the file was sent (whatever the answer).
import { Clock, Effect, Option, Stream } from "effect"
import type { Email } from "../1-events/Email.js"
import type { AudienceKey, ListId } from "../1-events/Ids.js"
import type { ImportRef } from "../2-ledger/ImportsInFlight.js"
import type { StagedFile, StagedLeft } from "../2-ledger/StagedImport.js"
import { StateKeys } from "../2-ledger/StateKeys.js"
import { csvRow } from "../3-plan/Csv.js"
import { headerBytes } from "../3-plan/ImportFiles.js"
import type { SendStaged, StageRows } from "../3-plan/Plan.js"
import { sameColumns } from "../3-plan/StagedFiles.js"
import type { PlannedFields } from "../3-plan/PlannedEmail.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"
import { MarketoApi } from "../ports/MarketoApi.js"
import { StateStore } from "../ports/StateStore.js"
import { fieldsSent } from "./LeadCalls.js"
import type { StepEffect } from "./StepEffect.js"

/** What staging needs of the audience: its file staged so far, and the reference a new file takes. */
export interface StagingContext {
  readonly audience: AudienceKey
  readonly staged: StagedFile | undefined
  readonly nextRef: ImportRef
  readonly at: number
}

/** Whether the rows fit the file staged (same columns, room left); a new file always takes them. */
export const fitsStaged = (staged: StagedFile | undefined, step: StageRows) =>
  staged === undefined || (sameColumns(staged.columns, step.columns) && staged.bytes + step.csvBytes <= MarketoLimits.maxImportFileBytes)

/**
 * Write the rows as the file's next part and say so (`ImportStaged`, and their fields as sent: the
 * file carries them). Rows that do not fit return no effect: they wait for a later tick. A new file
 * first clears parts a stopped tick left of files already sent.
 */
export const stageRows = Effect.fn("StagedImport.stageRows")(function*(
  step: StageRows,
  staging: StagingContext,
  fieldsOf: ((email: Email) => PlannedFields | undefined) | undefined
) {
  if (!fitsStaged(staging.staged, step)) return [] as Array<StepEffect>
  const store = yield* StateStore
  const ref = staging.staged?.ref ?? staging.nextRef
  const part = staging.staged?.parts ?? 0
  if (part === 0) {
    const left = yield* store.list(StateKeys.stagedPrefix(staging.audience))
    if (left.length > 0) yield* store.remove(left)
  }
  let text = ""
  for (const email of step.emails) {
    const values = step.columns.length === 0 ? undefined : fieldsOf?.(email)?.values
    text += csvRow([email, ...step.columns.map((c) => values?.[c] ?? "")])
  }
  yield* store.set(StateKeys.stagedPart(staging.audience, ref, part), text)
  const bytes = step.csvBytes + (part === 0 ? headerBytes(step.columns) : 0)
  return [
    { _tag: "ImportStaged", ref, part, emails: step.emails, bytes, columns: step.columns, at: staging.at },
    ...fieldsSent(step.emails, fieldsOf)
  ] as Array<StepEffect>
})

/** The staged file as a CSV: its header, then each part as it is read from the store. */
export const stagedCsv = (audience: AudienceKey, staged: StagedFile) =>
  Stream.concat(
    Stream.make(csvRow(["email", ...staged.columns])),
    Stream.mapEffect(Stream.range(0, staged.parts - 1), (part) =>
      Effect.flatMap(StateStore, (store) => store.get(StateKeys.stagedPart(audience, staged.ref, part))).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.dieMessage(`staged part ${part} of import ${staged.ref} for "${audience}" is missing`),
          onSome: Effect.succeed
        }))
      ))
  )

/** Delete a sent file's parts (the one a stopped tick may have written after them too). */
export const deleteParts = Effect.fn("StagedImport.deleteParts")(function*(audience: AudienceKey, left: StagedLeft) {
  const store = yield* StateStore
  yield* store.remove(Array.from({ length: left.parts + 1 }, (_, n) => StateKeys.stagedPart(audience, left.ref, n)))
  return [{ _tag: "StagedPartsDeleted", ref: left.ref }] as Array<StepEffect>
})

/** Send the staged file (one call, its body streamed part by part); its parts are deleted once sent. */
export const sendStaged = Effect.fn("StagedImport.send")(function*(audience: AudienceKey, listId: ListId, staged: StagedFile, why: SendStaged["why"]) {
  const api = yield* MarketoApi
  const store = yield* StateStore
  const now = yield* Clock.currentTimeMillis
  yield* Effect.logInfo("staged import sending").pipe(
    Effect.annotateLogs({ audience, ref: staged.ref, rows: staged.rows, bytes: staged.bytes, waitedSeconds: Math.round((now - staged.since) / 1000), why })
  )
  const body = stagedCsv(audience, staged).pipe(Stream.provideService(StateStore, store))
  const outcome = yield* Effect.either(api.importCsv(listId, { bytes: staged.bytes, body }))
  // Sent or lost, the parts are done with; a refusal or a stop leaves them to the next tick
  // (the record names them: `stagedLeft`, deleteLeftParts).
  if (outcome._tag === "Left" && outcome.left._tag !== "MarketoAnswerLost") return yield* Effect.fail(outcome.left)
  const deleted = yield* deleteParts(audience, { ref: staged.ref, parts: staged.parts })
  if (outcome._tag === "Left") {
    yield* Effect.logWarning("staged import sent, its answer lost: it will be looked for on the list").pipe(
      Effect.annotateLogs({ audience, ref: staged.ref, rows: staged.rows, message: outcome.left.message.slice(0, 300) })
    )
    return deleted
  }
  return [{ _tag: "StagedStarted", ref: staged.ref, batchId: outcome.right.batchId }, ...deleted] as Array<StepEffect>
})
