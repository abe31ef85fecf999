// What a plan costs in Marketo calls, how long the instance's budget makes it take at least, and
// the lower bound no correct plan can beat — the yardstick the planner is measured against.
import { Match } from "effect"
import { chooseImports, chunkGroup, importGroups } from "./ImportFiles.js"
import { MarketoLimits } from "../marketo/MarketoLimits.js"
import type { Plan, Step } from "./Plan.js"
import { type AudienceDelta, fieldsOfPlanned, type PlannedEmail } from "./PlannedEmail.js"

export interface Budget {
  readonly callsPerWindow: number
  readonly windowMillis: number
}

/** Calls of one step in the expected case. An import is counted with the status poll it will need. */
export const stepCalls: (step: Step) => number = Match.type<Step>().pipe(
  Match.tagsExhaustive({
    EnsureFolder: () => 1,
    // Creating the list, or checking in which folder a list the sender named is.
    EnsureList: () => 1,
    LookupLeads: () => 1,
    UpsertLeads: () => 1,
    AddToList: () => 1,
    RemoveFromList: () => 1,
    ImportLeads: () => 2,
    PollImport: () => 1,
    UpdateLeads: () => 1
  })
)

export const planCalls = (plan: Plan): number => plan.steps.reduce((sum, step) => sum + stepCalls(step), 0)

/** The rolling window lets `callsPerWindow` calls start at once, then as many per window. */
export const minDurationSeconds = (calls: number, budget: Budget): number =>
  calls <= 0 ? 0 : Math.floor((calls - 1) / budget.callsPerWindow) * (budget.windowMillis / 1000)

const perBatch = (count: number) => Math.ceil(count / MarketoLimits.batchSize)
const hasIds = (e: PlannedEmail) => e.leadIds !== undefined && e.leadIds.length > 0

/**
 * Cheapest way to add emails whose lead ids are unknown: imports (with a poll each; one file per
 * 10 MB of rows carrying the same lead fields) or upsert + add, mixed as it pays.
 */
export const unknownAddCost = (emails: ReadonlyArray<PlannedEmail>): number => {
  if (emails.length === 0) return 0
  const fieldsOf = fieldsOfPlanned(emails)
  const groups = importGroups(emails.map((e) => e.email), fieldsOf)
  return chooseImports(groups.map((g) => ({ emails: g.emails.length, files: chunkGroup(g, fieldsOf).length })), emails.length).calls
}

/**
 * Per list: adds cost the fewer of (an import per 10 MB of rows carrying the same lead fields,
 * plus its poll) and (2 per 300, or 1 per 300 with known lead ids); changed lead fields 1 per 300;
 * removals 1 per 300 with known ids, 2 per 300 otherwise; a new list 2
 * (the folder, then creating the list or checking the one the sender named).
 */
export const lowerBound = (delta: AudienceDelta): number => {
  const newList = delta.listId === undefined ? 2 : 0
  const knownAdds = delta.add.filter(hasIds).length
  const knownRemoves = delta.remove.filter(hasIds).length
  return newList +
    delta.pendingImports.length +
    perBatch(knownAdds) +
    unknownAddCost(delta.add.filter((e) => !hasIds(e))) +
    perBatch(delta.update?.length ?? 0) +
    perBatch(knownRemoves) +
    2 * perBatch(delta.remove.length - knownRemoves)
}
