// What a plan costs in Marketo calls and how long the instance's budget makes it take at least.
// The lower bound no correct plan can beat, the yardstick the planner is measured against, is
// derived on its own in LowerBound.ts.
import { Match } from "effect"
import type { Plan, Step } from "./Plan.js"

export interface Budget {
  readonly callsPerWindow: number
  readonly windowMillis: number
}

/**
 * Calls of one step in the expected case. An import is counted with its one poll: the sync polls a
 * running import on each tick from the time it is expected to have ended (learned from the
 * instance's imports, ImportLatency.ts), so one when that estimate holds.
 */
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
    UpdateLeads: () => 1,
    FindImport: () => 2,
    // Staging rows calls nothing; sending the staged file is one import and its poll.
    StageRows: () => 0,
    SendStaged: () => 2
  })
)

export const planCalls = (plan: Plan): number => plan.steps.reduce((sum, step) => sum + stepCalls(step), 0)

/** The rolling window lets `callsPerWindow` calls start at once, then as many per window. */
export const minDurationSeconds = (calls: number, budget: Budget): number =>
  calls <= 0 ? 0 : Math.floor((calls - 1) / budget.callsPerWindow) * (budget.windowMillis / 1000)

export { lowerBound } from "./LowerBound.js"
