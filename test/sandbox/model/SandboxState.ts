// The model's state and the records in it: static lists, leads and import jobs, the tokens issued,
// the counters behind the window and the daily quota, and the call log; and the state at the start.
import type { SandboxConfig } from "../SandboxConfig.js"
import { type FaultsState, faultsState } from "../SandboxFaults.js"
import type { CallRecord } from "./CallRecord.js"

export interface List {
  id: number
  name: string
  folderId: number
  createdAt: number
  updatedAt: number
  members: Set<number>
  /** Member ids in id order, kept until the membership changes (paging reads it on every page). */
  sorted?: Array<number> | undefined
}

export interface Lead {
  id: number
  email: string
  createdAt: number
  updatedAt: number
  /** Lead field values by REST name (model/LeadFields.ts). */
  fields: Map<string, string>
  /** The lead partition it was created in, on an instance with partitions. */
  partition?: string
}

export interface ImportJob {
  batchId: number
  listId: number | undefined
  createdAt: number
  /** When a running slot takes it, and when it ends (fixed on arrival: first in, first out). */
  startsAt: number
  endsAt: number
  header: Array<string>
  emailAt: number
  /** The lead partition the import's new leads go to. */
  partition?: string
  rows: Array<Array<string>>
  failed: boolean
  applied: boolean
  processed: number
  warnings: Array<Array<string>>
  failures: Array<Array<string>>
}

/**
 * Everything the model knows, as plain data (Maps and Sets included), so a state can be copied
 * with `structuredClone` and a call replayed from it: see `step`.
 */
export interface SandboxState {
  config: SandboxConfig
  faults: FaultsState
  /** Added to every `now` the model is given: `/__sandbox/clock` moves time forward. */
  clockOffsetMillis: number
  tokens: Map<string, number>
  currentToken: string | undefined
  /** Times of the counted calls in the current rolling window. */
  window: Array<number>
  usedToday: number
  /** The Chicago day `usedToday` belongs to (the quota resets at midnight US Central). */
  day: number
  lists: Map<number, List>
  leads: Map<number, Lead>
  byEmail: Map<string, Array<number>>
  imports: Map<number, ImportJob>
  nextId: number
  requestCounter: number
  tokenCounter: number
  /** Calls the shell has admitted and not yet answered (615). */
  inFlight: number
  log: Array<CallRecord>
  /** Imports started from now on that end Failed (`failImports`), whatever their rows. */
  failNextImports: number
  /** Rows imports put into failures.csv: of these emails, and others at this rate (`failImportRows`). */
  importRowFailures: { emails: Array<string>; rate: number }
}

export const initialState = (config: SandboxConfig, seed: number): SandboxState => ({
  config,
  faults: faultsState(seed),
  clockOffsetMillis: 0,
  tokens: new Map(),
  currentToken: undefined,
  window: [],
  usedToday: 0,
  day: -1,
  lists: new Map(),
  leads: new Map(),
  byEmail: new Map(),
  imports: new Map(),
  nextId: 1,
  requestCounter: 0,
  tokenCounter: 0,
  inFlight: 0,
  log: [],
  failNextImports: 0,
  importRowFailures: { emails: [...config.failImportRowsOf], rate: config.importRowFailureRate }
})
