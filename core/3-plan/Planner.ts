// From one audience's delta to the cheapest correct plan. Order: make sure the list exists, confirm
// imports started earlier, add, send changed lead fields, then remove. Adds with cached lead ids go
// straight to the list; the rest take the cheaper of bulk import (one call per 10 MB file plus a
// status poll; rows grouped by the lead fields they carry) and upsert + add (two calls per 300).
// Changed lead fields of members on the list are upserted (one call per 300). Removals use cached
// lead ids, else look them up first.
import { isCsvSafe } from "./Csv.js"
import type { Email } from "../1-events/Email.js"
import { chooseImports, chunkGroup, type ImportFile, importGroups } from "./ImportFiles.js"
import { lookupMethodFor } from "./LookupMethod.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"
import {
  AddToList,
  EnsureFolder,
  EnsureList,
  ImportLeads,
  LookupLeads,
  Plan,
  PollImport,
  RemoveFromList,
  type Step,
  UpdateLeads,
  UpsertLeads
} from "./Plan.js"
import { type AudienceDelta, fieldsOfPlanned, type PlannedEmail } from "./PlannedEmail.js"

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

/** Whether a CSV can carry the email and its field values without a spreadsheet reading a formula. */
const csvSafe = (e: PlannedEmail) =>
  isCsvSafe(e.email) && (e.fields === undefined || Object.values(e.fields.values).every(isCsvSafe))

/**
 * Adds whose lead ids are unknown: by bulk import (with its later poll) only where that is
 * strictly cheaper than upsert + add, so small deltas take the path that confirms membership
 * soonest and large ones the path that costs least. Rows carrying different fields go in
 * different files; a group too small to pay for its file is upserted. Emails a CSV cannot carry
 * safely (the email or a field value) are always upserted.
 */
export const splitUnknownAdds = (unknownAdds: ReadonlyArray<PlannedEmail>, options: PlannerOptions = {}) => {
  const none = { imported: [] as ReadonlyArray<PlannedEmail>, upserted: unknownAdds, files: [] as ReadonlyArray<ImportFile> }
  const importable = options.addPath === "fastest" ? [] : unknownAdds.filter(csvSafe)
  if (importable.length === 0) return none
  const fieldsOf = fieldsOfPlanned(importable)
  const groups = importGroups(importable.map((e) => e.email), fieldsOf).map((group) => ({ group, files: chunkGroup(group, fieldsOf) }))
  const choice = chooseImports(groups.map((g) => ({ emails: g.group.emails.length, files: g.files.length })), unknownAdds.length)
  if (choice.imported.size === 0) return none
  const chosen = new Set<Email>()
  const files: Array<ImportFile> = []
  groups.forEach((g, i) => {
    if (!choice.imported.has(i)) return
    for (const email of g.group.emails) chosen.add(email)
    files.push(...g.files)
  })
  return { imported: importable.filter((e) => chosen.has(e.email)), upserted: unknownAdds.filter((e) => !chosen.has(e.email)), files }
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

  const { files, upserted } = splitUnknownAdds(unknownAdds, options)
  for (const batch of batches(upserted.map((e) => e.email))) {
    steps.push(new UpsertLeads({ audience, emails: asBatch(batch) }, trusted))
    steps.push(new AddToList({ audience, emails: asBatch(batch) }, trusted))
  }
  for (const file of files) {
    steps.push(new ImportLeads({ audience, emails: asBatch(file.emails), csvBytes: file.csvBytes }, trusted))
  }
  const updates = [...(delta.update ?? [])].sort(byEmail).map((e) => e.email)
  for (const batch of batches(updates)) steps.push(new UpdateLeads({ audience, emails: asBatch(batch) }, trusted))

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
