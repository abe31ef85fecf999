// From one audience's delta to the cheapest correct plan. Order: make sure the list exists, confirm
// imports started earlier, add, then remove. Adds with cached lead ids go straight to the list;
// the rest take the cheaper of bulk import (one call per 10 MB file plus a status poll) and
// upsert + add (two calls per 300). Removals use cached lead ids, else look them up first.
import { isCsvSafe } from "./Csv.js"
import type { Email } from "../1-events/Email.js"
import { chunkEmailsByBytes } from "./ImportFiles.js"
import { lookupMethodFor } from "./LookupMethod.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"
import { AddToList, EnsureFolder, EnsureList, ImportLeads, LookupLeads, Plan, PollImport, RemoveFromList, type Step, UpsertLeads } from "./Plan.js"
import type { AudienceDelta, PlannedEmail } from "./PlannedEmail.js"

export type { AudienceDelta, PlannedEmail } from "./PlannedEmail.js"

export interface PlannerOptions {
  /** "fastest" confirms membership soonest (upsert + add, never an import that takes minutes). */
  readonly addPath?: "cheapest" | "fastest"
}

const byEmail = (a: PlannedEmail, b: PlannedEmail) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0)
const idCount = (e: PlannedEmail) => e.leadIds?.length ?? 0

/** Batches of at most 300 emails whose known lead ids also add up to at most 300 per call. */
export const chunkByLeadIds = (emails: ReadonlyArray<PlannedEmail>): ReadonlyArray<ReadonlyArray<Email>> => {
  const chunks: Array<Array<Email>> = []
  let current: Array<Email> = []
  let ids = 0
  for (const e of emails) {
    const n = Math.max(1, idCount(e))
    if (current.length > 0 && (current.length === MarketoLimits.batchSize || ids + n > MarketoLimits.batchSize)) {
      chunks.push(current)
      current = []
      ids = 0
    }
    current.push(e.email)
    ids += n
  }
  if (current.length > 0) chunks.push(current)
  return chunks
}

/** Items in Marketo's batches of at most 300. */
export const batches = <A>(items: ReadonlyArray<A>): ReadonlyArray<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += MarketoLimits.batchSize) out.push(items.slice(i, i + MarketoLimits.batchSize))
  return out
}

// Steps are valid by construction (the property tests decode every plan), so the constructors
// skip re-validating up to a million emails.
const trusted = { disableValidation: true } as const

const asBatch = (emails: ReadonlyArray<Email>) => emails as readonly [Email, ...Array<Email>]

/**
 * Adds whose lead ids are unknown: by bulk import (with its later poll) only when that is strictly
 * cheaper than upsert + add, so small deltas take the path that confirms membership soonest and
 * large ones the path that costs least. Emails a CSV cannot carry safely are always upserted.
 */
export const splitUnknownAdds = (unknownAdds: ReadonlyArray<PlannedEmail>, options: PlannerOptions = {}) => {
  const importable = unknownAdds.filter((e) => isCsvSafe(e.email))
  const importCalls = 2 * chunkEmailsByBytes(importable.map((e) => e.email)).length
  const upsertCalls = (count: number) => 2 * Math.ceil(count / MarketoLimits.batchSize)
  const useImport = options.addPath !== "fastest" && importable.length > 0 &&
    importCalls + upsertCalls(unknownAdds.length - importable.length) < upsertCalls(unknownAdds.length)
  return useImport
    ? { imported: importable, upserted: unknownAdds.filter((e) => !isCsvSafe(e.email)) }
    : { imported: [] as ReadonlyArray<PlannedEmail>, upserted: unknownAdds }
}

export const planAudience = (delta: AudienceDelta, options: PlannerOptions = {}): Plan => {
  const { audience } = delta
  const steps: Array<Step> = []
  if (delta.listId === undefined) {
    // A list the sender named is checked against the folder too (core/ExternalList.ts).
    steps.push(new EnsureFolder({ folderName: delta.folderName }, trusted))
    steps.push(
      new EnsureList({
        audience,
        listName: delta.listName,
        folderName: delta.folderName,
        ...(delta.externalListId === undefined ? {} : { listId: delta.externalListId })
      })
    )
  }
  for (const batchId of delta.pendingImports) steps.push(new PollImport({ audience, batchId }, trusted))

  const adds = [...delta.add].sort(byEmail)
  const knownAdds = adds.filter((e) => idCount(e) > 0)
  const unknownAdds = adds.filter((e) => idCount(e) === 0)
  for (const chunk of chunkByLeadIds(knownAdds)) steps.push(new AddToList({ audience, emails: asBatch(chunk) }, trusted))

  const { imported, upserted } = splitUnknownAdds(unknownAdds, options)
  for (const batch of batches(upserted.map((e) => e.email))) {
    steps.push(new UpsertLeads({ audience, emails: asBatch(batch) }, trusted))
    steps.push(new AddToList({ audience, emails: asBatch(batch) }, trusted))
  }
  if (imported.length > 0) {
    for (const file of chunkEmailsByBytes(imported.map((e) => e.email))) {
      steps.push(new ImportLeads({ audience, emails: asBatch(file.emails), csvBytes: file.csvBytes }, trusted))
    }
  }

  const removes = [...delta.remove].sort(byEmail)
  for (const chunk of chunkByLeadIds(removes.filter((e) => idCount(e) > 0))) {
    steps.push(new RemoveFromList({ audience, emails: asBatch(chunk) }, trusted))
  }
  for (const batch of batches(removes.filter((e) => idCount(e) === 0).map((e) => e.email))) {
    steps.push(new LookupLeads({ audience, emails: asBatch(batch), method: lookupMethodFor(batch) }, trusted))
    steps.push(new RemoveFromList({ audience, emails: asBatch(batch) }, trusted))
  }
  return new Plan({ audience, steps }, trusted)
}
