// From one audience's delta to the cheapest correct plan that keeps the latency target. Order: make
// sure the list exists, confirm imports started earlier (those due) and look for imports whose
// answer was lost, learn the lead ids of new members (upserts), add every member whose id is known
// (cached or just upserted, 300 ids per call), import the rest, then look up the lead ids of
// leaving members and remove every one of them (300 per call). Adds whose lead ids are unknown go
// by bulk import (one call per 10 MB file plus its poll) when that is cheaper than upsert + add and
// the import would be confirmed within the latency target, or the budget could not pay for upsert +
// add before it anyway; otherwise by upsert + add. The lower bound it is measured against is
// derived on its own (LowerBound.ts).
import { isCsvSafe } from "./Csv.js"
import type { Email } from "../1-events/Email.js"
import { chunkEmailsByBytes } from "./ImportFiles.js"
import { lookupMethodFor } from "./LookupMethod.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"
import { AddToList, EnsureFolder, EnsureList, FindImport, ImportLeads, LookupLeads, Plan, PollImport, RemoveFromList, type Step, UpsertLeads } from "./Plan.js"
import type { AudienceDelta, PlannedEmail } from "./PlannedEmail.js"

export type { AudienceDelta, PlannedEmail } from "./PlannedEmail.js"

/** What the planner knows of time: how long an import takes here, and what is left of the target. */
export interface ImportTiming {
  /** Ms from sending an import of `rows` until the sync has confirmed it (its poll included). */
  readonly confirmMillis: (rows: number) => number
  /** Ms left before the oldest change waiting for this list misses the latency target. */
  readonly leftMillis: number
  /** Calls this audience may spend before then (its share of the budget, ticks until the target). */
  readonly affordableCalls: number
}

export interface PlannerOptions {
  /** "fastest" confirms membership soonest (upsert + add, never an import that takes minutes). */
  readonly addPath?: "cheapest" | "fastest"
  /** Without it, only calls are weighed (an import is as quick as the calls it saves). */
  readonly timing?: ImportTiming
}

const byEmail = (a: PlannedEmail, b: PlannedEmail) => (a.email < b.email ? -1 : a.email > b.email ? 1 : 0)
const idCount = (e: PlannedEmail) => e.leadIds?.length ?? 0
const perBatch = (n: number) => Math.ceil(n / MarketoLimits.batchSize)

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
 * Adds whose lead ids are unknown: by bulk import only when that is strictly cheaper than upsert +
 * add (add calls are shared with the `knownIds` of adds whose lead ids are cached), and, given
 * `timing`, when the import would be confirmed within the latency target or upsert + add could not
 * be paid for before it anyway. Emails a CSV cannot carry safely, and rows an import refused
 * before, are always upserted.
 */
export const splitUnknownAdds = (unknownAdds: ReadonlyArray<PlannedEmail>, options: PlannerOptions = {}, knownIds = 0) => {
  const importable = unknownAdds.filter((e) => isCsvSafe(e.email) && e.importFailed !== true)
  const rest = unknownAdds.length - importable.length
  const viaUpsert = perBatch(unknownAdds.length) + perBatch(knownIds + unknownAdds.length)
  const viaImport = 2 * chunkEmailsByBytes(importable.map((e) => e.email)).length + perBatch(rest) + perBatch(knownIds + rest)
  const timing = options.timing
  const inTime = timing === undefined || timing.confirmMillis(importable.length) <= timing.leftMillis || viaUpsert > timing.affordableCalls
  const useImport = options.addPath !== "fastest" && importable.length > 0 && inTime && viaImport < viaUpsert
  return useImport
    ? { imported: importable, upserted: unknownAdds.filter((e) => !isCsvSafe(e.email) || e.importFailed === true) }
    : { imported: [] as ReadonlyArray<PlannedEmail>, upserted: unknownAdds }
}

export const planAudience = (delta: AudienceDelta, options: PlannerOptions = {}): Plan => {
  const { audience } = delta
  const steps: Array<Step> = []
  if (delta.listId === undefined) {
    if (delta.externalListId === undefined) steps.push(new EnsureFolder({ folderName: delta.folderName }, trusted))
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
  for (const check of delta.importChecks ?? []) {
    steps.push(new FindImport({ audience, ref: check.ref, sample: asBatch(check.sample), giveUpAt: check.giveUpAt }, trusted))
  }

  // Adds: the unknown lead ids learned first (upserts), then every add by id, 300 ids per call
  // whether the id was cached or just learned; the rest by import.
  const adds = [...delta.add].sort(byEmail)
  const knownAdds = adds.filter((e) => idCount(e) > 0)
  const { imported, upserted } = splitUnknownAdds(adds.filter((e) => idCount(e) === 0), options, knownAdds.reduce((n, e) => n + idCount(e), 0))
  for (const batch of batches(upserted.map((e) => e.email))) steps.push(new UpsertLeads({ audience, emails: asBatch(batch) }, trusted))
  for (const chunk of chunkByLeadIds([...knownAdds, ...upserted].sort(byEmail))) steps.push(new AddToList({ audience, emails: asBatch(chunk) }, trusted))
  if (imported.length > 0) {
    for (const file of chunkEmailsByBytes(imported.map((e) => e.email))) {
      steps.push(new ImportLeads({ audience, emails: asBatch(file.emails), csvBytes: file.csvBytes }, trusted))
    }
  }

  // Removes: the unknown lead ids looked up first, then every removal by id, 300 ids per call.
  const removes = [...delta.remove].sort(byEmail)
  for (const batch of batches(removes.filter((e) => idCount(e) === 0).map((e) => e.email))) {
    steps.push(new LookupLeads({ audience, emails: asBatch(batch), method: lookupMethodFor(batch) }, trusted))
  }
  for (const chunk of chunkByLeadIds(removes)) steps.push(new RemoveFromList({ audience, emails: asBatch(chunk) }, trusted))
  return new Plan({ audience, steps }, trusted)
}
