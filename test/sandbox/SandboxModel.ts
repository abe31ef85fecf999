// A stateful local Marketo: identity, folders, static lists, leads, list membership, bulk import
// and usage, with Marketo's envelope, string error codes and limits (606 rolling window, 615
// concurrency, 607 daily quota, 300 per call, 413/414, token expiry). Deterministic: time comes in
// with each request and faults come from a seeded generator, so a test replays exactly. No I/O:
// the HTTP shell (server.ts) and the in-process HttpClient (SandboxHttpClient.ts) wrap it.
//
// This file is the model as its users see it: `step`, the pure transition, and `SandboxModel`, the
// same transition in place with control and inspection. The parts live in model/: the state
// (SandboxState.ts), the request pipeline (HandleRequest.ts) and one file per concern it calls.
import { defaultSandboxConfig, type SandboxConfig } from "./SandboxConfig.js"
import { type FaultRule, Faults } from "./SandboxFaults.js"
import { Answers } from "./model/Answers.js"
import { advanceImports, failImportRows, failImports } from "./model/BulkImport.js"
import { busyRefusal, countRefusal, useQuota } from "./model/CallLimits.js"
import { type CallRecord, endpointOf } from "./model/CallRecord.js"
import { handleRequest } from "./model/HandleRequest.js"
import { revokeTokens } from "./model/Identity.js"
import { counters, isMember, memberEmails, snapshot } from "./model/Inspection.js"
import { createLead, upsertLead } from "./model/Leads.js"
import { deleteListByHand, mergeDuplicates, mergeLeads, renameListByHand } from "./model/PersonEdits.js"
import { pathOf, type SandboxInput, type SandboxResponse } from "./model/SandboxRequest.js"
import { initialState, type SandboxState } from "./model/SandboxState.js"
import { addList } from "./model/StaticLists.js"

export type { CallRecord } from "./model/CallRecord.js"
export { endpointOf } from "./model/CallRecord.js"
export type { SandboxInput, SandboxRequest, SandboxResponse } from "./model/SandboxRequest.js"
export type { SandboxState } from "./model/SandboxState.js"

/** The model as a function: `state × request × now → state × response`; the given state is left as it was. */
export const step = (state: SandboxState, request: SandboxInput, now: number): readonly [SandboxState, SandboxResponse] => {
  const model = SandboxModel.fromState(state)
  const response = model.handle(request, now)
  return [model.state, response]
}

/** The same transition applied in place (no copy per call), with control and inspection around it. */
export class SandboxModel {
  private s: SandboxState

  constructor(config: Partial<SandboxConfig> = {}, seed = 1) {
    this.s = initialState({ ...defaultSandboxConfig, ...config }, seed)
    this.seed()
  }

  /** A model working on a copy of `state`. */
  static fromState(state: SandboxState): SandboxModel {
    const model = new SandboxModel(state.config)
    model.s = structuredClone(state)
    return model
  }

  /** The live state (a copy of it with `structuredClone` is a checkpoint). */
  get state(): SandboxState {
    return this.s
  }
  get config(): SandboxConfig {
    return this.s.config
  }
  get faults(): Faults {
    return new Faults(this.s.faults)
  }
  get log(): ReadonlyArray<CallRecord> {
    return this.s.log
  }
  get inFlight(): number {
    return this.s.inFlight
  }
  set inFlight(n: number) {
    this.s.inFlight = n
  }
  get clockOffsetMillis(): number {
    return this.s.clockOffsetMillis
  }
  set clockOffsetMillis(n: number) {
    this.s.clockOffsetMillis = n
  }

  /** Back to the configured start (the same config unless a new one is given); calls in flight stay counted. */
  reset(config?: Partial<SandboxConfig>, seed = 1) {
    const inFlight = this.s.inFlight
    this.s = initialState(config === undefined ? this.s.config : { ...defaultSandboxConfig, ...config }, seed)
    this.s.inFlight = inFlight
    this.seed()
  }

  private seed() {
    for (const email of this.config.duplicateEmails) {
      createLead(this.s, email, 0)
      createLead(this.s, email, 0)
    }
    for (const email of this.config.leads) upsertLead(this.s, email, 0)
    for (const list of this.config.lists) this.addList(list.name, list.folderId ?? this.config.folders[0]?.id ?? 0, list.members ?? [])
  }

  /** The model's time for a shell's clock reading. */
  now(clock: number) {
    return clock + this.clockOffsetMillis
  }

  advanceClock(millis: number) {
    this.clockOffsetMillis += millis
  }

  /** Makes the model's time `target` at the shell's clock reading `clock` (time may go backwards). */
  setClock(target: number, clock: number) {
    this.clockOffsetMillis = target - clock
  }

  /** Extra latency the shell should add to this call (config plus `latency` faults). */
  latencyFor(request: SandboxInput): number {
    const path = pathOf(request.url)
    if (path.startsWith("/__sandbox") || path === "/") return 0
    return this.config.latencyMillis + this.faults.latency(path)
  }

  // ------------------------------------------------------------------ control (tests, dev page)

  setFaults(rules: ReadonlyArray<FaultRule>, seed?: number) {
    this.faults.set(rules, seed)
  }

  /**
   * Sets the calls counted today, as if other integrations had used them (`dailyQuota` of them
   * makes the next counted call answer 607 until midnight US Central).
   */
  useQuota(usedToday: number, clock: number) {
    useQuota(this.s, usedToday, this.now(clock))
  }

  /** The next `count` imports end Failed (as Marketo's do when a file cannot be processed). */
  failImports(count: number) {
    failImports(this.s, count)
  }

  revokeTokens() {
    revokeTokens(this.s)
  }

  /**
   * The client secret the identity endpoint accepts from now on, as when someone resets the API
   * user's secret in Marketo; tokens issued before stay valid until revoked or expired.
   */
  setClientSecret(clientSecret: string) {
    this.s.config = { ...this.s.config, clientSecret }
  }

  /** Rows of these emails, and other rows at `rate` (seeded), go to failures.csv in the imports that complete from now on. */
  failImportRows(rate: number, emails: ReadonlyArray<string> = []) {
    failImportRows(this.s, rate, emails)
  }

  // ------------------------------------------------------------------ what a person does by hand

  /** A person merges lead `loserId` into `winnerId` (model/PersonEdits.ts). */
  mergeLeads(loserId: number, winnerId: number, clock = 0) {
    return mergeLeads(this.s, loserId, winnerId, this.now(clock)).id
  }

  /** A person merges every lead of the email into its oldest; the winner's id, if any lead had it. */
  mergeDuplicates(email: string, clock = 0): number | undefined {
    return mergeDuplicates(this.s, email, this.now(clock))
  }

  /** Lead ids of an email, oldest first. */
  leadIdsOf(email: string): ReadonlyArray<number> {
    return this.s.byEmail.get(email.trim().toLowerCase()) ?? []
  }

  /** A person deletes the list of that id or name; later calls on it answer 1013. */
  deleteList(list: number | string): boolean {
    const id = typeof list === "number" ? list : [...this.s.lists.values()].find((l) => l.name === list)?.id
    return id !== undefined && deleteListByHand(this.s, id)
  }

  /** A person renames a list; its id and members stay. */
  renameList(list: number | string, name: string, clock = 0): boolean {
    const id = typeof list === "number" ? list : [...this.s.lists.values()].find((l) => l.name === list)?.id
    return id !== undefined && renameListByHand(this.s, id, name, this.now(clock))
  }

  /**
   * Calls by endpoint and by outcome (`ok`, a Marketo code, `HTTP 502`, `dropped`), and by both.
   * Given the shell's clock, the window and the day's use are as of that time (they otherwise move
   * on only with calls), with the next quota reset.
   */
  counters(clock?: number) {
    return counters(this.s, clock === undefined ? undefined : this.now(clock))
  }

  snapshot() {
    return snapshot(this.s)
  }

  /** Emails on the list of that name, sorted. */
  members(listName: string): Array<string> {
    return this.snapshot().lists.find((l) => l.name === listName)?.members ?? []
  }

  addList(name: string, folderId: number, emails: ReadonlyArray<string> = [], now = 0): number {
    return addList(this.s, name, folderId, emails, now)
  }

  /** Sees every call as it is logged (the log itself keeps only the latest 50,000 to 100,000). */
  onCall: ((call: CallRecord) => void) | undefined = undefined

  private logCall(call: CallRecord) {
    this.s.log.push(call)
    if (this.s.log.length > 100_000) this.s.log.splice(0, 50_000)
    this.onCall?.(call)
  }

  /** Lets imports that have ended by the shell's `clock` take effect, as the next call would. */
  settleImports(clock: number) {
    advanceImports(this.s, this.now(clock))
  }

  /** Whether any lead of the email is on the list of that name (case as stored). */
  isMember(listName: string, email: string): boolean {
    return isMember(this.s, listName, email)
  }

  /** The emails on the list of that name, without building a snapshot of everything. */
  memberEmails(listName: string): Set<string> {
    return memberEmails(this.s, listName)
  }

  // ------------------------------------------------------------------ the request

  /**
   * A call arriving while `maxConcurrency` calls are in flight is refused at once with 615 (the
   * shell asks before it starts the call; identity calls are not limited).
   */
  refuseIfBusy(request: SandboxInput, clock: number): SandboxResponse | undefined {
    const path = pathOf(request.url)
    const response = busyRefusal(this.s, new Answers(this.s, path.startsWith("/rest/asset/")), path)
    if (response === undefined) return undefined
    const counted = countRefusal(this.s, this.now(clock))
    this.logCall({ at: this.now(clock), method: request.method, path, endpoint: endpointOf(request.method, path), status: 200, outcome: "615", counted })
    return response
  }

  /** One call: the state moves on and the answer comes back. `clock` is the shell's time in ms. */
  handle(input: SandboxInput, clock: number): SandboxResponse {
    return handleRequest(this.s, input, this.now(clock), (call) => this.logCall(call))
  }
}

export type { FaultRule }
