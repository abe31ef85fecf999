// From one audience's delta to the cheapest correct plan that keeps the latency target. Order: make
// sure the list exists, confirm imports started earlier (those due) and look for imports whose
// answer was lost, learn the lead ids of new members (upserts), add every member whose id is known
// (cached or just upserted, 300 ids per call), import the rest, then look up the lead ids of
// leaving members and remove every one of them (300 per call). Adds whose lead ids are unknown go
// by bulk import (one call per 10 MB file plus its poll) when that is cheaper than upsert + add and
// the import would be confirmed within the latency target, or the budget could not pay for upsert +
// add before it anyway (the adds waiting beyond this delta counted in); otherwise by upsert + add.
// The lower bound it is measured against is derived on its own (LowerBound.ts). Changed lead
// fields of members on the list are upserted (one call per 300) after the adds; import rows are
// grouped by the lead fields they carry.
import { isCsvSafe } from "./Csv.js"
import type { Email } from "../1-events/Email.js"
import { chooseImports, chunkGroup, type ImportFile, importFileCount, importGroups } from "./ImportFiles.js"
import { lookupMethodFor } from "./LookupMethod.js"
import { isFull, type Staging, stagedSteps } from "./StagedFiles.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"
import {
  AddToList,
  EnsureFolder,
  EnsureList,
  FindImport,
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

/** What the planner knows of time: how long an import takes here, and what is left of the target. */
export interface ImportTiming {
  /** Ms from sending an import of `rows` until the sync has confirmed it (its poll included). */
  readonly confirmMillis: (rows: number) => number
  /** Ms left before the oldest change waiting for this list misses the latency target. */
  readonly leftMillis: number
  /** Calls this audience may spend before then (its share of the budget, ticks until the target). */
  readonly affordableCalls: number
  /**
   * Adds of this list waiting beyond the delta planned now (a load larger than a tick collects).
   * Upserting part of a backlog keeps no target the rest of it misses: they are counted as the
   * calls they would take at least (adds by id) when weighing whether upsert + add can be paid.
   */
  readonly addsBeyond?: number
}

export interface PlannerOptions {
  /** "fastest" confirms membership soonest (upsert + add, never an import that takes minutes). */
  readonly addPath?: "cheapest" | "fastest"
  /** Without it, only calls are weighed (an import is as quick as the calls it saves). */
  readonly timing?: ImportTiming
  /**
   * With it, imported rows are staged into the audience's file carried across ticks and the file
   * is sent when it should go (StagedFiles.ts); without it, each file is imported at once.
   */
  readonly staging?: Staging
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

/** Whether a CSV can carry the email and its field values without a spreadsheet reading a formula. */
const csvSafe = (e: PlannedEmail) =>
  isCsvSafe(e.email) && (e.fields === undefined || Object.values(e.fields.values).every(isCsvSafe))

/** A row a bulk import can carry: CSV-safe (its field values too), not refused by an import before, at most one lead. */
const importable = (e: PlannedEmail) => csvSafe(e) && e.importFailed !== true && idCount(e) <= 1

/** The files importing these rows takes: one group per set of lead field columns, one file per 10 MB of each. */
export const importFilesOf = (emails: ReadonlyArray<PlannedEmail>): ReadonlyArray<ImportFile> => {
  const fieldsOf = fieldsOfPlanned(emails)
  return importGroups(emails.map((e) => e.email), fieldsOf).flatMap((group) => chunkGroup(group, fieldsOf))
}

/** Of these importable rows whose lead ids are unknown, the field groups worth a file (ImportFiles.ts `chooseImports`). */
const importedGroups = (rows: ReadonlyArray<PlannedEmail>, unknownCount: number) => {
  if (rows.every((e) => e.fields === undefined)) return { imported: rows, upserted: [] as ReadonlyArray<PlannedEmail> }
  const fieldsOf = fieldsOfPlanned(rows)
  const groups = importGroups(rows.map((e) => e.email), fieldsOf)
  const choice = chooseImports(groups.map((g) => ({ emails: g.emails.length, files: chunkGroup(g, fieldsOf).length })), unknownCount)
  const chosen = new Set<Email>()
  groups.forEach((g, i) => {
    if (choice.imported.has(i)) for (const email of g.emails) chosen.add(email)
  })
  return { imported: rows.filter((e) => chosen.has(e.email)), upserted: rows.filter((e) => !chosen.has(e.email)) }
}

const importFileCountOf = (emails: ReadonlyArray<PlannedEmail>): number => {
  if (emails.every((e) => e.fields === undefined)) return importFileCount(emails.map((e) => e.email))
  return importFilesOf(emails).length
}

export interface AddPaths {
  /** Sent by bulk import. */
  readonly imported: ReadonlyArray<PlannedEmail>
  /** Upserted (their lead ids unknown), then added by id. */
  readonly upserted: ReadonlyArray<PlannedEmail>
  /** Added by their cached lead ids. */
  readonly byId: ReadonlyArray<PlannedEmail>
}

/**
 * How the adds go, the cheapest of three: upsert the unknown and add every id; import the
 * importable unknown (the rest upserted, every id added); or import every importable add, known
 * lead ids included (a large entry of members whose ids are cached, e.g. a list made again). An
 * import is an option only when strictly cheaper and, given `timing`, when it would be confirmed
 * within the latency target, or when the plan without it (`otherCalls` being the plan's calls
 * besides its adds) could not be paid for before the target anyway.
 */
export const chooseAddPaths = (adds: ReadonlyArray<PlannedEmail>, options: PlannerOptions = {}, otherCalls = 0): AddPaths => {
  // One pass: cached ids or not, importable or not (a million adds are planned in well under a second).
  const knownIn: Array<PlannedEmail> = []
  const knownOut: Array<PlannedEmail> = []
  const unknownIn: Array<PlannedEmail> = []
  const unknownOut: Array<PlannedEmail> = []
  let knownIds = 0
  let knownOutIds = 0
  for (const e of adds) {
    const n = idCount(e)
    const into = importable(e)
    if (n > 0) {
      knownIds += n
      if (into) knownIn.push(e)
      else {
        knownOut.push(e)
        knownOutIds += n
      }
    } else (into ? unknownIn : unknownOut).push(e)
  }
  const unknownCount = unknownIn.length + unknownOut.length
  const known = knownOut.length === 0 ? knownIn : knownIn.length === 0 ? knownOut : adds.filter((e) => idCount(e) > 0)
  const unknown = unknownOut.length === 0 ? unknownIn : unknownIn.length === 0 ? unknownOut : adds.filter((e) => idCount(e) === 0)
  const files = importFileCountOf
  const none: AddPaths = { imported: [], upserted: unknown, byId: known }
  const noneCost = perBatch(unknownCount) + perBatch(knownIds + unknownCount)
  if (options.addPath === "fastest") return none
  const candidates: Array<readonly [AddPaths, number]> = [[none, noneCost]]
  if (unknownIn.length > 0) {
    // Rows carrying different lead fields go in different files: a group too small to pay for its
    // file is upserted instead.
    const { imported, upserted } = importedGroups(unknownIn, unknownCount)
    if (imported.length > 0) {
      const up = unknownOut.length === 0 ? upserted : upserted.length === 0 ? unknownOut : [...unknownOut, ...upserted].sort(byEmail)
      candidates.push([{ imported, upserted: up, byId: known }, 2 * files(imported) + perBatch(up.length) + perBatch(knownIds + up.length)])
    }
  }
  if (knownIn.length > 0) {
    const all = unknownIn.length === 0 ? knownIn : [...unknownIn, ...knownIn].sort(byEmail)
    candidates.push([{ imported: all, upserted: unknownOut, byId: knownOut }, 2 * files(all) + perBatch(unknownOut.length) + perBatch(knownOutIds + unknownOut.length)])
  }
  // A staged file with room is sent anyway: rows added to it cost no import of their own.
  const open = options.staging?.staged !== undefined && !isFull(options.staging.staged.bytes) ? 2 : 0
  if (open > 0) for (let i = 1; i < candidates.length; i++) candidates[i] = [candidates[i]![0], Math.max(0, candidates[i]![1] - open)]
  const timing = options.timing
  const inTime = (paths: AddPaths) =>
    timing === undefined || timing.confirmMillis(paths.imported.length) <= timing.leftMillis ||
    otherCalls + noneCost + perBatch(timing.addsBeyond ?? 0) > timing.affordableCalls
  let best = candidates[0]!
  for (const c of candidates.slice(1)) if (c[1] < best[1] && inTime(c[0])) best = c
  return best[0]
}

/** Calls of a plan besides its adds: list creation, polls and checks due, changed lead fields, removals. */
export const callsBesidesAdds = (delta: AudienceDelta) => {
  const removes = delta.remove
  const unknownRemoves = removes.filter((e) => idCount(e) === 0).length
  return (delta.listId === undefined ? 2 : 0) + delta.pendingImports.length +
    2 * (delta.importChecks?.length ?? 0) + perBatch(delta.update?.length ?? 0) + perBatch(unknownRemoves) + perBatch(removes.reduce((n, e) => n + Math.max(1, idCount(e)), 0))
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
  for (const check of delta.importChecks ?? []) {
    steps.push(new FindImport({ audience, ref: check.ref, sample: asBatch(check.sample), giveUpAt: check.giveUpAt }, trusted))
  }

  // Adds: the unknown lead ids learned first (upserts), then every add by id, 300 ids per call
  // whether the id was cached or just learned; the rest by import.
  const { byId, imported, upserted } = chooseAddPaths([...delta.add].sort(byEmail), options, callsBesidesAdds(delta))
  for (const batch of batches(upserted.map((e) => e.email))) steps.push(new UpsertLeads({ audience, emails: asBatch(batch) }, trusted))
  for (const chunk of chunkByLeadIds([...byId, ...upserted].sort(byEmail))) steps.push(new AddToList({ audience, emails: asBatch(chunk) }, trusted))
  if (options.staging !== undefined) {
    const fieldsOf = fieldsOfPlanned(imported)
    steps.push(...stagedSteps(audience, imported.map((e) => e.email), fieldsOf, options.staging))
  } else if (imported.length > 0) {
    for (const file of importFilesOf(imported)) {
      steps.push(new ImportLeads({ audience, emails: asBatch(file.emails), csvBytes: file.csvBytes }, trusted))
    }
  }
  const updates = [...(delta.update ?? [])].sort(byEmail).map((e) => e.email)
  for (const batch of batches(updates)) steps.push(new UpdateLeads({ audience, emails: asBatch(batch) }, trusted))

  // Removes: the unknown lead ids looked up first, then every removal by id, 300 ids per call.
  const removes = [...delta.remove].sort(byEmail)
  for (const batch of batches(removes.filter((e) => idCount(e) === 0).map((e) => e.email))) {
    steps.push(new LookupLeads({ audience, emails: asBatch(batch), method: lookupMethodFor(batch) }, trusted))
  }
  for (const chunk of chunkByLeadIds(removes)) steps.push(new RemoveFromList({ audience, emails: asBatch(chunk) }, trusted))
  return new Plan({ audience, steps }, trusted)
}
