// An import whose answer was lost may be queued, running, done, or may never have reached Marketo.
// Sending its rows again before knowing would queue the same work twice, so the sync looks for it
// first: one lookup of a sample of its rows (their lead ids), one membership check of those ids.
// Some of the sample on the list: the import ran; its other rows count as added, and the sampled
// rows not on the list are sent again by upsert + add. None on the list: it has not run yet, or it
// never will; the sync looks again later, and past `giveUpAt` (several times the instance's import
// latency) plans the rows again.
import { Clock, Effect, Option } from "effect"
import type { Email } from "../1-events/Email.js"
import type { LeadId, ListId } from "../1-events/Ids.js"
import type { FindImport } from "../3-plan/Plan.js"
import { MarketoRejected } from "../marketo/MarketoErrors.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"
import { MarketoApi } from "../ports/MarketoApi.js"
import type { StepEffect } from "./StepEffect.js"

export const findImport = Effect.fn("Interpreter.findImport")(function*(step: FindImport, listId: Option.Option<ListId>) {
  if (Option.isNone(listId)) return yield* new MarketoRejected({ code: "1013", message: "the audience has no list yet" })
  const api = yield* MarketoApi
  const found = yield* api.lookupLeads(step.sample)
  const owner = new Map<LeadId, Email>()
  for (const f of found) for (const id of f.leadIds) owner.set(id, f.email)
  const ids = [...owner.keys()]
  const onList = new Set<Email>()
  for (let i = 0; i < ids.length; i += MarketoLimits.batchSize) {
    for (const id of yield* api.listHasLeads(listId.value, ids.slice(i, i + MarketoLimits.batchSize))) onList.add(owner.get(id)!)
  }
  const learned: StepEffect = { _tag: "LeadIdsLearned", ids: found.filter((f) => f.leadIds.length > 0) }
  const now = yield* Clock.currentTimeMillis
  if (onList.size > 0) {
    const missing = step.sample.filter((e) => !onList.has(e)).map((email) => ({ email, code: "not on the list after the import ran" }))
    return [learned, { _tag: "ImportEnded", batchId: step.ref, status: "Complete", failed: missing }] as Array<StepEffect>
  }
  if (now >= step.giveUpAt) return [learned, { _tag: "ImportEnded", batchId: step.ref, status: "Failed", failed: [] }] as Array<StepEffect>
  return [learned, { _tag: "ImportChecked", ref: step.ref, at: now }] as Array<StepEffect>
})
