// A stateful local Marketo: identity, folders, static lists, leads, list membership, bulk import
// and usage, with Marketo's envelope, string error codes and limits (606 rolling window, 615
// concurrency, 607 daily quota, 300 per call, 413/414, token expiry). Deterministic: time comes in
// with each request and faults come from a seeded generator, so a test replays exactly. No I/O:
// the HTTP shell (server.ts) and the in-process HttpClient (SandboxHttpClient.ts) wrap it.
import { csvDocument, parseCsv } from "../../core/3-plan/Csv.js"
import { centralDate, centralDay, nextCentralMidnight } from "./CentralTime.js"
import { defaultSandboxConfig, type SandboxConfig } from "./SandboxConfig.js"
import { type FaultKind, type FaultRule, Faults, type FaultsState, faultsState } from "./SandboxFaults.js"

export interface SandboxRequest {
  readonly method: string
  /** Path and query, e.g. `/rest/v1/leads.json?filterType=email`. */
  readonly url: string
  /** Lower-case names. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array
}

/** What `handle` accepts: the body may also be text. */
export type SandboxInput = Omit<SandboxRequest, "body"> & { readonly body: string | Uint8Array }

type Request = SandboxRequest

export interface SandboxResponse {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  /** The shell should drop the connection instead of answering. */
  readonly drop?: boolean
}

export interface CallRecord {
  readonly at: number
  readonly method: string
  readonly path: string
  /** Method and path with ids replaced, e.g. `GET /rest/v1/lists/{id}/leads.json`. */
  readonly endpoint: string
  readonly status: number
  /** Marketo's code when the envelope failed, else "ok" (or the HTTP status). */
  readonly outcome: string
  readonly counted: boolean
  /** The answer came from a fault rule (the soak tells injected 606/615 from real refusals). */
  readonly injected?: boolean
  /** The ordinal of the access token the call carried (the n-th token issued), never the token itself. */
  readonly token?: number
}

interface List {
  id: number
  name: string
  folderId: number
  createdAt: number
  updatedAt: number
  members: Set<number>
  /** Member ids in id order, kept until the membership changes (paging reads it on every page). */
  sorted?: Array<number> | undefined
}
interface Lead {
  id: number
  email: string
  createdAt: number
  updatedAt: number
}
interface ImportJob {
  batchId: number
  listId: number | undefined
  createdAt: number
  /** When a running slot takes it, and when it ends (fixed on arrival: first in, first out). */
  startsAt: number
  endsAt: number
  header: Array<string>
  emailAt: number
  rows: Array<Array<string>>
  failed: boolean
  applied: boolean
  processed: number
  warnings: Array<Array<string>>
  failures: Array<Array<string>>
}

const json = (status: number, body: unknown): SandboxResponse => ({
  status,
  headers: { "content-type": "application/json;charset=UTF-8" },
  body: JSON.stringify(body)
})
const iso = (millis: number) => new Date(millis).toISOString().replace(".000Z", "Z")
const decoder = new TextDecoder()
const encoder = new TextEncoder()
const uncounted = ["601", "602", "604", "605", "608", "611"]

const knownPaths = [
  /^\/rest\/asset\/v1\/folder\/byName\.json$/,
  /^\/rest\/asset\/v1\/staticLists\.json$/,
  /^\/rest\/asset\/v1\/staticList\/(byName|\d+)\.json$/,
  /^\/rest\/asset\/v1\/staticList\/\d+\/delete\.json$/,
  /^\/rest\/v1\/lists(\/\d+)?\.json$/,
  /^\/rest\/v1\/lists\/\d+\/leads(\/ismember)?\.json$/,
  /^\/rest\/v1\/leads\.json$/,
  /^\/rest\/v1\/stats\/usage\.json$/,
  /^\/bulk\/v1\/leads(\/batch\/\d+(\/(failures|warnings))?)?\.json$/
]

/** `GET /rest/v1/lists/{id}/leads.json`: one key per endpoint for the counters. */
export const endpointOf = (method: string, path: string) => `${method.toUpperCase()} ${path.replace(/\/\d+(?=[/.])/g, "/{id}")}`

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
}

const initialState = (config: SandboxConfig, seed: number): SandboxState => ({
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
  failNextImports: 0
})

/** The model as a function: `state × request × now → state × response`; the given state is left as it was. */
export const step = (state: SandboxState, request: SandboxInput, now: number): readonly [SandboxState, SandboxResponse] => {
  const model = SandboxModel.fromState(state)
  const response = model.handle(request, now)
  return [model.state, response]
}

/** The same transition applied in place (no copy per call), with control and inspection around it. */
export class SandboxModel {
  private s: SandboxState
  private assetCall = false

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
      this.createLead(email, 0)
      this.createLead(email, 0)
    }
    for (const email of this.config.leads) this.upsertLead(email, 0)
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
    const path = new URL(request.url, "http://sandbox.local").pathname
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
    this.s.day = centralDay(this.now(clock))
    this.s.usedToday = Math.max(0, Math.floor(usedToday))
  }

  /** The next `count` imports end Failed (as Marketo's do when a file cannot be processed). */
  failImports(count: number) {
    this.s.failNextImports = Math.max(0, Math.floor(count))
  }

  revokeTokens() {
    this.s.tokens.clear()
    this.s.currentToken = undefined
  }

  /**
   * Calls by endpoint and by outcome (`ok`, a Marketo code, `HTTP 502`, `dropped`), and by both.
   * Given the shell's clock, the window and the day's use are as of that time (they otherwise move
   * on only with calls), with the next quota reset.
   */
  counters(clock?: number) {
    const byEndpoint: Record<string, number> = {}
    const byOutcome: Record<string, number> = {}
    const byEndpointAndOutcome: Record<string, Record<string, number>> = {}
    for (const c of this.log) {
      byEndpoint[c.endpoint] = (byEndpoint[c.endpoint] ?? 0) + 1
      byOutcome[c.outcome] = (byOutcome[c.outcome] ?? 0) + 1
      const row = (byEndpointAndOutcome[c.endpoint] ??= {})
      row[c.outcome] = (row[c.outcome] ?? 0) + 1
    }
    const now = clock === undefined ? undefined : this.now(clock)
    return {
      calls: this.log.length,
      counted: this.log.filter((c) => c.counted).length,
      usedToday: now === undefined || centralDay(now) === this.s.day ? this.s.usedToday : 0,
      inWindow: now === undefined ? this.s.window.length : this.s.window.filter((t) => t > now - this.config.windowMillis).length,
      inFlight: this.inFlight,
      ...(now === undefined ? {} : { now, quotaResetsAt: nextCentralMidnight(now) }),
      byEndpoint,
      byOutcome,
      byEndpointAndOutcome
    }
  }

  snapshot() {
    return {
      folders: this.config.folders,
      clockOffsetMillis: this.clockOffsetMillis,
      lists: [...this.s.lists.values()].map((l) => ({
        id: l.id,
        name: l.name,
        folderId: l.folderId,
        members: [...l.members].map((id) => this.s.leads.get(id)?.email ?? `#${id}`).sort()
      })),
      leads: [...this.s.leads.values()].map((l) => ({ id: l.id, email: l.email })),
      imports: [...this.s.imports.values()].map((j) => ({ batchId: j.batchId, listId: j.listId ?? null, rows: j.rows.length, createdAt: j.createdAt, startsAt: j.startsAt, endsAt: j.endsAt }))
    }
  }

  /** Emails on the list of that name, sorted. */
  members(listName: string): Array<string> {
    return this.snapshot().lists.find((l) => l.name === listName)?.members ?? []
  }

  addList(name: string, folderId: number, emails: ReadonlyArray<string> = [], now = 0): number {
    const id = this.s.nextId++
    const members = new Set(emails.map((e) => this.upsertLead(e, now).id))
    this.s.lists.set(id, { id, name, folderId, createdAt: now, updatedAt: now, members })
    return id
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
    this.advanceImports(this.now(clock))
  }

  /** Whether any lead of the email is on the list of that name (case as stored). */
  isMember(listName: string, email: string): boolean {
    const list = [...this.s.lists.values()].find((l) => l.name === listName)
    if (list === undefined) return false
    return (this.s.byEmail.get(email.toLowerCase()) ?? []).some((id) => list.members.has(id))
  }

  /** The emails on the list of that name, without building a snapshot of everything. */
  memberEmails(listName: string): Set<string> {
    const list = [...this.s.lists.values()].find((l) => l.name === listName)
    const out = new Set<string>()
    for (const id of list?.members ?? []) {
      const email = this.s.leads.get(id)?.email
      if (email !== undefined) out.add(email.toLowerCase())
    }
    return out
  }

  // ------------------------------------------------------------------ the request

  /**
   * A call arriving while `maxConcurrency` calls are in flight is refused at once with 615 (the
   * shell asks before it starts the call; identity calls are not limited).
   */
  refuseIfBusy(request: SandboxInput, clock: number): SandboxResponse | undefined {
    const path = new URL(request.url, "http://sandbox.local").pathname
    if (path.startsWith("/identity/") || this.inFlight < this.config.maxConcurrency) return undefined
    const response = this.fail("615", "Concurrent access limit reached", path.startsWith("/rest/asset/"))
    this.logCall({ at: this.now(clock), method: request.method, path, endpoint: endpointOf(request.method, path), status: 200, outcome: "615", counted: false })
    return response
  }

  /** One call: the state moves on and the answer comes back. `clock` is the shell's time in ms. */
  handle(input: SandboxInput, clock: number): SandboxResponse {
    const now = this.now(clock)
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(input.headers)) headers[name.toLowerCase()] = value
    const request: Request = { ...input, headers, body: typeof input.body === "string" ? encoder.encode(input.body) : input.body }
    const url = new URL(request.url, "http://sandbox.local")
    const path = url.pathname
    // The Asset API carries `warnings: []` on every answer, failures included.
    this.assetCall = path.startsWith("/rest/asset/")
    let tokenOrdinal: number | undefined
    const record = (response: SandboxResponse, counted: boolean, injected = false): SandboxResponse => {
      let outcome = response.drop === true ? "dropped" : response.status === 200 ? "ok" : `HTTP ${response.status}`
      if (response.status === 200 && response.headers["content-type"]?.includes("json")) {
        const body = JSON.parse(response.body) as { success?: boolean; errors?: Array<{ code: string }> }
        if (body.success === false) outcome = body.errors?.[0]?.code ?? "error"
      }
      this.logCall({
        at: now, method: request.method, path, endpoint: endpointOf(request.method, path), status: response.status, outcome, counted,
        ...(injected ? { injected } : {}),
        ...(tokenOrdinal === undefined ? {} : { token: tokenOrdinal })
      })
      return response
    }
    this.advanceImports(now)
    if (path.startsWith("/identity/")) {
      // Identity answers no envelope codes of its own; only a rule aimed at it (502, drop, …) hits it.
      const fault = this.faults.pick(path, true)
      if (fault === "revoke") this.revokeTokens()
      else if (fault !== undefined) return record(this.faultResponse(fault), false, true)
      return record(this.identity(request, url, now), false)
    }
    const uriLimit = path.startsWith("/rest/asset/") ? this.config.maxAssetUriBytes : this.config.maxUriBytes
    if (encoder.encode(request.url).byteLength > uriLimit) return record({ status: 414, headers: { "content-type": "text/html" }, body: "<html><body>414 Request-URI Too Large</body></html>" }, false)
    const limit = path.startsWith("/bulk/v1/leads.json") ? this.config.maxImportBytes : this.config.maxBodyBytes
    if (request.body.byteLength > limit) return record({ status: 413, headers: { "content-type": "text/html" }, body: "<html><body>413 Request Entity Too Large</body></html>" }, false)

    const auth = request.headers["authorization"] ?? ""
    const token = /^bearer\s+(.+)$/i.exec(auth)?.[1]
    const ordinal = token === undefined ? Number.NaN : Number.parseInt(/^([0-9a-f]{8})-0000-4000-8000-[0-9a-f]{12}:sb$/.exec(token)?.[1] ?? "", 16)
    if (Number.isFinite(ordinal)) tokenOrdinal = ordinal
    if (url.searchParams.has("access_token") && token === undefined) return record(this.fail("601", "Access token invalid"), false)
    if (token === undefined) return record(this.fail("601", "Access token invalid"), false)
    const expiresAt = this.s.tokens.get(token)
    if (expiresAt === undefined) return record(this.fail("601", "Access token invalid"), false)
    if (expiresAt <= now) return record(this.fail("602", "Access token expired"), false)

    const fault = this.faults.pick(path)
    if (fault === "revoke") {
      this.revokeTokens()
      return record(this.fail("601", "Access token invalid"), false, true)
    }
    // An injected fault stands for a call Marketo refused or lost: it uses no window or quota.
    if (fault !== undefined) return record(this.faultResponse(fault), false, true)

    this.s.window = this.s.window.filter((t) => t > now - this.config.windowMillis)
    if (this.s.window.length >= this.config.callsPerWindow) {
      return record(this.fail("606", `Max rate limit '${this.config.callsPerWindow}' exceeded with in '${this.config.windowMillis / 1000}' secs`), false)
    }
    const today = centralDay(now)
    if (today !== this.s.day) {
      this.s.day = today
      this.s.usedToday = 0
    }
    if (this.s.usedToday >= this.config.dailyQuota) return record(this.fail("607", "Daily quota reached"), false)
    this.s.window.push(now)
    this.s.usedToday++

    let method = request.method.toUpperCase()
    const params = new URLSearchParams(url.search)
    const contentType = request.headers["content-type"] ?? ""
    if (method === "POST" && params.get("_method") === "GET") {
      method = "GET"
      for (const [k, v] of new URLSearchParams(decoder.decode(request.body))) params.append(k, v)
    }
    const response = this.route(method, path, params, request, contentType, now)
    // Responses with these codes are not counted by Marketo.
    const code = (JSON.parse(response.headers["content-type"]?.includes("json") ? response.body : "{}") as { errors?: Array<{ code: string }> }).errors?.[0]?.code
    const counted = code === undefined || !uncounted.includes(code)
    if (!counted) {
      this.s.window.pop()
      this.s.usedToday--
    }
    return record(response, counted)
  }

  // ------------------------------------------------------------------ envelope

  private requestId() {
    return `${(++this.s.requestCounter).toString(16)}#sandbox`
  }
  // Lead Database answers carry empty errors and warnings as Adobe's OpenAPI files require them.
  private ok(result: ReadonlyArray<unknown>, extra: Record<string, unknown> = {}) {
    return json(200, { requestId: this.requestId(), result, success: true, errors: [], warnings: [], ...extra })
  }
  private okAsset(result: ReadonlyArray<unknown>) {
    return result.length === 0
      ? json(200, { success: true, errors: [], requestId: this.requestId(), warnings: ["No assets found for the given search criteria."] })
      : json(200, { success: true, errors: [], requestId: this.requestId(), warnings: [], result })
  }
  private fail(code: string, message: string, asset = this.assetCall) {
    return json(200, { requestId: this.requestId(), success: false, errors: [{ code, message }], ...(asset ? { warnings: [] } : {}) })
  }

  private faultResponse(kind: Exclude<FaultKind, "revoke" | "latency">): SandboxResponse {
    if (kind === "drop") return { status: 0, headers: {}, body: "", drop: true }
    if (kind === "502") return { status: 502, headers: { "content-type": "text/html" }, body: "<html><body>502 Bad Gateway</body></html>" }
    const messages: Record<string, string> = {
      "604": "Request time-out",
      "606": "Max rate limit '100' exceeded with in '20' secs",
      "608": "API Temporarily Unavailable",
      "611": "System error",
      "615": "Concurrent access limit reached"
    }
    return this.fail(kind, messages[kind] ?? "error")
  }

  // ------------------------------------------------------------------ identity

  private identity(request: SandboxRequest, url: URL, now: number): SandboxResponse {
    if (url.pathname !== "/identity/oauth/token") return json(404, { error: "not_found" })
    const params = new URLSearchParams(url.search)
    if (request.method.toUpperCase() === "POST") for (const [k, v] of new URLSearchParams(decoder.decode(request.body))) params.set(k, v)
    if (params.get("grant_type") !== "client_credentials") return json(400, { error: "unsupported_grant_type", error_description: "Unsupported grant type" })
    if (params.get("client_id") !== this.config.clientId || params.get("client_secret") !== this.config.clientSecret) {
      return json(401, { error: "invalid_client", error_description: "Bad client credentials" })
    }
    const current = this.s.currentToken === undefined ? undefined : this.s.tokens.get(this.s.currentToken)
    if (this.s.currentToken === undefined || current === undefined || current <= now) {
      this.s.currentToken = `${(++this.s.tokenCounter).toString(16).padStart(8, "0")}-0000-4000-8000-${now.toString(16).padStart(12, "0").slice(-12)}:sb`
      this.s.tokens.set(this.s.currentToken, now + this.config.tokenLifetimeSeconds * 1000)
    }
    // Whole seconds left, rounded down as Marketo does (a fresh token says 3599).
    const expiresIn = Math.max(0, Math.floor((this.s.tokens.get(this.s.currentToken)! - now - 1) / 1000))
    return json(200, { access_token: this.s.currentToken, token_type: "bearer", expires_in: expiresIn, scope: "api-user@example.com" })
  }

  // ------------------------------------------------------------------ routing

  private route(method: string, path: string, params: URLSearchParams, request: Request, contentType: string, now: number): SandboxResponse {
    const form = () => new URLSearchParams(decoder.decode(request.body))
    const jsonBody = (): { input?: Array<Record<string, unknown>>; action?: string; lookupField?: string } | undefined => {
      try {
        return JSON.parse(decoder.decode(request.body)) as never
      } catch {
        return undefined
      }
    }
    let m: RegExpExecArray | null
    if (method === "GET" && path === "/rest/asset/v1/folder/byName.json") return this.folderByName(params)
    if (method === "POST" && path === "/rest/asset/v1/staticLists.json") return this.createList(form(), now)
    if (method === "GET" && path === "/rest/asset/v1/staticLists.json") return this.browseLists(params)
    if (method === "GET" && path === "/rest/asset/v1/staticList/byName.json") {
      return this.okAsset([...this.s.lists.values()].filter((l) => this.sameName(l.name, params.get("name") ?? "")).map((l) => this.assetList(l)))
    }
    if ((m = /^\/rest\/asset\/v1\/staticList\/(\d+)\.json$/.exec(path)) && method === "GET") {
      const list = this.s.lists.get(Number(m[1]))
      return this.okAsset(list === undefined ? [] : [this.assetList(list)])
    }
    if ((m = /^\/rest\/asset\/v1\/staticList\/(\d+)\/delete\.json$/.exec(path)) && method === "POST") {
      const id = Number(m[1])
      if (!this.s.lists.delete(id)) return this.fail("702", `${id} Static List not found`, true)
      return json(200, { success: true, errors: [], requestId: this.requestId(), warnings: [], result: [{ id }] })
    }
    if (method === "GET" && path === "/rest/v1/lists.json") {
      const names = params.getAll("name").flatMap((n) => n.split(","))
      const ids = params.getAll("id").flatMap((n) => n.split(",")).map(Number)
      const programs = params.getAll("programName").flatMap((n) => n.split(","))
      const lists = [...this.s.lists.values()]
        .filter((l) => names.length === 0 || names.some((n) => this.sameName(l.name, n)))
        .filter((l) => ids.length === 0 || ids.includes(l.id))
        .filter((l) => programs.length === 0 || programs.includes(this.leadDbList(l).programName))
      const size = this.pageSize(params)
      if (size === undefined) return this.fail("1003", `Invalid batchSize, maximum is ${this.config.batchSize}`)
      const offset = this.pageOffset(params)
      if (offset === undefined) return this.fail("1003", "Invalid nextPageToken")
      const more = offset + size < lists.length
      return this.ok(lists.slice(offset, offset + size).map((l) => this.leadDbList(l)), more ? { moreResult: true, nextPageToken: btoa(String(offset + size)) } : {})
    }
    if ((m = /^\/rest\/v1\/lists\/(\d+)\.json$/.exec(path)) && method === "GET") {
      const list = this.s.lists.get(Number(m[1]))
      return list === undefined ? this.fail("1013", "Static list not found") : this.ok([this.leadDbList(list)])
    }
    if ((m = /^\/rest\/v1\/lists\/(\d+)\/leads\/ismember\.json$/.exec(path)) && method === "GET") {
      const list = this.s.lists.get(Number(m[1]))
      if (list === undefined) return this.fail("1013", "Static list not found")
      const ids = params.getAll("id").flatMap((v) => v.split(",")).map(Number)
      if (ids.length === 0) return this.fail("701", "id cannot be blank")
      if (ids.length > this.config.batchSize) return this.fail("1003", `Batch size exceeds ${this.config.batchSize}`)
      return this.ok(ids.map((id) => (this.s.leads.has(id) ? { id, status: list.members.has(id) ? "memberof" : "notmemberof" } : { id, status: "skipped", reasons: [{ code: "1004", message: "Lead not found" }] })))
    }
    if ((m = /^\/rest\/v1\/lists\/(\d+)\/leads\.json$/.exec(path))) {
      const list = this.s.lists.get(Number(m[1]))
      if (method === "GET") return list === undefined ? this.fail("1013", "Static list not found") : this.listMembers(list, params)
      const ids = params.has("id")
        ? params.getAll("id").flatMap((v) => v.split(",")).map(Number)
        : (jsonBody()?.input ?? []).map((r) => Number(r["id"]))
      if (ids.length === 0) return this.fail("701", "id cannot be blank")
      if (ids.length > this.config.batchSize) return this.fail("1003", `Batch size exceeds ${this.config.batchSize}`)
      if (list === undefined) return this.fail("1013", "Static list not found")
      if (method === "POST") return this.ok(ids.map((id) => this.addMember(list, id, now)))
      if (method === "DELETE") return this.ok(ids.map((id) => this.removeMember(list, id, now)))
    }
    if (path === "/rest/v1/leads.json") {
      if (method === "GET") return this.lookup(params)
      if (method === "POST") {
        if (!contentType.includes("json")) return this.fail("612", "Invalid Content Type")
        const body = jsonBody()
        if (body === undefined) return this.fail("609", "Invalid JSON")
        return this.upsert(body, now)
      }
    }
    if (method === "POST" && path === "/bulk/v1/leads.json") return this.startImport(params, request, contentType, now)
    if ((m = /^\/bulk\/v1\/leads\/batch\/(\d+)\.json$/.exec(path)) && method === "GET") {
      const job = this.s.imports.get(Number(m[1]))
      return job === undefined ? this.fail("1013", "Import not found") : this.ok([this.importStatus(job, now)])
    }
    if ((m = /^\/bulk\/v1\/leads\/batch\/(\d+)\/(failures|warnings)\.json$/.exec(path)) && method === "GET") {
      const job = this.s.imports.get(Number(m[1]))
      if (job === undefined) return this.fail("1013", "Import not found")
      // The rows as sent, with the reason as an extra last column; only once the import has run.
      const done = job.applied
      const rows = !done ? [] : m[2] === "warnings" ? job.warnings : job.failures
      const csv = csvDocument([...job.header, m[2] === "warnings" ? "Import Warning Reason" : "Import Failure Reason"], rows)
      return { status: 200, headers: { "content-type": "text/csv;charset=UTF-8" }, body: csv }
    }
    if (method === "GET" && path === "/rest/v1/stats/usage.json") {
      return this.ok([{ date: centralDate(now), total: this.s.usedToday, users: [{ userId: "api-user@example.com", count: this.s.usedToday }] }])
    }
    // A known resource asked with the wrong method is 605; anything else is 610.
    if (knownPaths.some((known) => known.test(path))) return this.fail("605", "Request method not supported")
    return this.fail("610", "Requested resource not found")
  }

  // ------------------------------------------------------------------ folders and lists

  private folderByName(params: URLSearchParams) {
    const type = params.get("type")?.toLowerCase()
    const found = this.config.folders.filter((f) => f.name === params.get("name") && (type === undefined || f.type.toLowerCase() === type))
    return this.okAsset(found.map((f) => ({
      id: f.id,
      name: f.name,
      description: "",
      createdAt: "2026-01-01T00:00:00Z+0000",
      updatedAt: "2026-01-01T00:00:00Z+0000",
      url: `https://sandbox.local/#MF${f.id}A1`,
      folderId: { id: f.id, type: f.type },
      folderType: f.type === "Folder" ? "Marketing Folder" : "Marketing Program",
      parent: { id: 1, type: "Folder" },
      path: f.path,
      isArchive: false,
      isSystem: false,
      accessZoneId: 1,
      workspace: "Default"
    })))
  }

  /** Marketo does not document whether list names compare case-insensitively: a knob, one rule for 709 and lookups. */
  private sameName(a: string, b: string) {
    return this.config.caseSensitiveListNames ? a === b : a.toLowerCase() === b.toLowerCase()
  }

  private assetList(l: List) {
    return { id: l.id, name: l.name, description: "", createdAt: iso(l.createdAt), updatedAt: iso(l.updatedAt), folder: { id: l.folderId, type: "Folder" }, url: `https://sandbox.local/#ST${l.id}A1`, computedUrl: `https://sandbox.local/#ST${l.id}A1`, workspace: "Default" }
  }

  private leadDbList(l: List) {
    const folder = this.config.folders.find((f) => f.id === l.folderId)
    return { id: l.id, name: l.name, description: "", programName: folder?.name ?? "", workspaceName: "Default", createdAt: iso(l.createdAt), updatedAt: iso(l.updatedAt) }
  }

  private createList(form: URLSearchParams, now: number) {
    const name = form.get("name")?.trim() ?? ""
    if (name === "") return this.fail("701", "name cannot be blank", true)
    let folderRef: { id?: unknown; type?: unknown }
    try {
      folderRef = JSON.parse(form.get("folder") ?? "null") ?? {}
    } catch {
      return this.fail("701", "folder cannot be blank", true)
    }
    const folder = this.config.folders.find((f) => f.id === Number(folderRef.id))
    if (folder === undefined) return this.fail("710", "Parent folder not found", true)
    if (folder.type.toLowerCase() !== "folder") return this.fail("711", "Incorrect folder type", true)
    if ([...this.s.lists.values()].some((l) => this.sameName(l.name, name))) {
      return this.fail("709", `Static List '${name}' already exists`, true)
    }
    const id = this.s.nextId++
    const list: List = { id, name, folderId: folder.id, createdAt: now, updatedAt: now, members: new Set() }
    this.s.lists.set(id, list)
    return json(200, { success: true, errors: [], requestId: this.requestId(), warnings: [], result: [this.assetList(list)] })
  }

  private browseLists(params: URLSearchParams) {
    let lists = [...this.s.lists.values()]
    const folder = params.get("folder")
    if (folder !== null) {
      try {
        const ref = JSON.parse(folder) as { id: number }
        lists = lists.filter((l) => l.folderId === Number(ref.id))
      } catch {
        return this.fail("701", "folder is not valid JSON", true)
      }
    }
    const offset = Number(params.get("offset") ?? 0)
    const max = Math.min(200, Number(params.get("maxReturn") ?? 20))
    return this.okAsset(lists.slice(offset, offset + max).map((l) => this.assetList(l)))
  }

  private listMembers(list: List, params: URLSearchParams) {
    const size = this.pageSize(params)
    if (size === undefined) return this.fail("1003", `Invalid batchSize, maximum is ${this.config.batchSize}`)
    // The token is a cursor (the last id answered), so members added or removed while a client
    // pages neither shift nor repeat the rest.
    const after = this.pageOffset(params)
    if (after === undefined) return this.fail("1003", "Invalid nextPageToken")
    const ids = (list.sorted ??= [...list.members].sort((a, b) => a - b))
    const start = params.has("nextPageToken") ? firstAbove(ids, after) : 0
    const page = ids.slice(start, start + size)
    const fields = (params.get("fields") ?? "id,email,firstName,lastName,updatedAt,createdAt").split(",")
    const result = page.map((id) => this.leadFields(this.s.leads.get(id)!, fields))
    const more = start + size < ids.length
    return this.ok(result, { moreResult: more, ...(more ? { nextPageToken: btoa(`m${page[page.length - 1]!}`) } : {}) })
  }

  private pageSize(params: URLSearchParams): number | undefined {
    const size = Number(params.get("batchSize") ?? this.config.batchSize)
    return Number.isInteger(size) && size >= 1 && size <= this.config.batchSize ? size : undefined
  }

  /** Paging tokens are opaque to clients; here they carry an offset (lookups) or the last id (`m…`, members). */
  private pageOffset(params: URLSearchParams): number | undefined {
    const token = params.get("nextPageToken")
    if (token === null) return 0
    try {
      const offset = Number(atob(token).replace(/^m/, ""))
      return Number.isInteger(offset) && offset >= 0 ? offset : undefined
    } catch {
      return undefined
    }
  }

  private addMember(list: List, id: number, now: number) {
    if (!this.s.leads.has(id)) return { id, status: "skipped", reasons: [{ code: "1004", message: "Lead not found" }] }
    if (!list.members.has(id)) {
      list.members.add(id)
      list.sorted = undefined
    }
    list.updatedAt = now
    return { id, status: "added" }
  }

  private removeMember(list: List, id: number, now: number) {
    if (!this.s.leads.has(id)) return { id, status: "skipped", reasons: [{ code: "1004", message: "Lead not found" }] }
    if (!list.members.delete(id)) return { id, status: "skipped", reasons: [{ code: "1015", message: "Lead not in list" }] }
    list.sorted = undefined
    list.updatedAt = now
    return { id, status: "removed" }
  }

  // ------------------------------------------------------------------ leads

  private createLead(email: string, now: number): Lead {
    const id = this.s.nextId++
    const lead = { id, email: email.trim(), createdAt: now, updatedAt: now }
    this.s.leads.set(id, lead)
    const key = email.trim().toLowerCase()
    this.s.byEmail.set(key, [...(this.s.byEmail.get(key) ?? []), id])
    return lead
  }

  private upsertLead(email: string, now: number): Lead {
    const found = this.s.byEmail.get(email.trim().toLowerCase())?.[0]
    if (found !== undefined) return this.s.leads.get(found)!
    return this.createLead(email, now)
  }

  private leadFields(lead: Lead, fields: ReadonlyArray<string>) {
    const all: Record<string, unknown> = { id: lead.id, email: lead.email, firstName: null, lastName: null, createdAt: iso(lead.createdAt), updatedAt: iso(lead.updatedAt) }
    const out: Record<string, unknown> = { id: lead.id }
    for (const f of fields) if (f in all) out[f] = all[f]
    return out
  }

  private lookup(params: URLSearchParams) {
    const filterType = params.get("filterType")
    const values = (params.get("filterValues") ?? "").split(",").filter((v) => v !== "")
    if (filterType === null || values.length === 0) return this.fail("1003", "filterType and filterValues are required")
    if (values.length > this.config.batchSize) return this.fail("1003", `Too many filter values, maximum is ${this.config.batchSize}`)
    const fields = (params.get("fields") ?? "id,email,firstName,lastName,updatedAt,createdAt").split(",")
    let ids: Array<number>
    if (filterType === "email") ids = values.flatMap((v) => this.s.byEmail.get(v.trim().toLowerCase()) ?? [])
    else if (filterType === "id") ids = values.map(Number).filter((id) => this.s.leads.has(id))
    else return this.fail("1035", `Unsupported filter type for target subscription: ${filterType}`)
    if (ids.length > this.config.maxFilterMatches) return this.fail("1003", `More than ${this.config.maxFilterMatches} leads match the filter`)
    const size = this.pageSize(params)
    if (size === undefined) return this.fail("1003", `Invalid batchSize, maximum is ${this.config.batchSize}`)
    const offset = this.pageOffset(params)
    if (offset === undefined) return this.fail("1003", "Invalid nextPageToken")
    const page = ids.slice(offset, offset + size)
    const more = offset + size < ids.length
    return this.ok(page.map((id) => this.leadFields(this.s.leads.get(id)!, fields)), more ? { nextPageToken: btoa(String(offset + size)) } : {})
  }

  private upsert(body: { input?: Array<Record<string, unknown>>; action?: string; lookupField?: string }, now: number) {
    const input = body.input ?? []
    const action = body.action ?? "createOrUpdate"
    if (input.length === 0) return this.fail("701", "input cannot be blank")
    if (input.length > this.config.batchSize) return this.fail("1003", `Batch size exceeds ${this.config.batchSize}`)
    if ((body.lookupField ?? "email") !== "email") return this.fail("1006", `Field '${body.lookupField}' not found`)
    if (!["createOrUpdate", "createOnly", "updateOnly"].includes(action)) return this.fail("1003", `Invalid action ${action}`)
    return this.ok(input.map((record) => {
      const email = typeof record["email"] === "string" ? record["email"].trim() : ""
      if (email === "") return { status: "skipped", reasons: [{ code: "1003", message: "Value for required field 'email' not specified" }] }
      const matches = this.s.byEmail.get(email.toLowerCase()) ?? []
      if (matches.length > 1) return { status: "skipped", reasons: [{ code: "1007", message: "Multiple lead match lookup criteria" }] }
      if (matches.length === 1) {
        if (action === "createOnly") return { status: "skipped", reasons: [{ code: "1005", message: "Lead already exists" }] }
        const lead = this.s.leads.get(matches[0]!)!
        lead.updatedAt = now
        return { id: lead.id, status: "updated" }
      }
      if (action === "updateOnly") return { status: "skipped", reasons: [{ code: "1004", message: "Lead not found" }] }
      return { id: this.createLead(email, now).id, status: "created" }
    }))
  }

  // ------------------------------------------------------------------ bulk import

  private startImport(params: URLSearchParams, request: Request, contentType: string, now: number) {
    if (params.get("format") !== "csv") return this.fail("1003", "Invalid format, only csv is supported here")
    const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType)
    if (boundary === null) return this.fail("613", "Invalid Multipart Request")
    const file = filePart(decoder.decode(request.body), boundary[1] ?? boundary[2]!)
    if (file === undefined) return this.fail("613", "Invalid Multipart Request: no file part")
    const listId = params.has("listId") ? Number(params.get("listId")) : undefined
    if (listId !== undefined && !this.s.lists.has(listId)) return this.fail("1013", "Static list not found")
    const jobs = [...this.s.imports.values()]
    const queued = jobs.filter((j) => now < j.startsAt).length
    if (queued >= this.config.importMaxQueued) return this.fail("1016", "Too many imports")
    if (listId !== undefined && jobs.some((j) => j.listId === listId && now < j.endsAt)) return this.fail("1019", "Import to this list is in progress")
    const [header = [], ...rows] = parseCsv(file)
    const lookupField = (params.get("lookupField") ?? "email").toLowerCase()
    const emailAt = header.findIndex((h) => h.trim().toLowerCase() === lookupField)
    if (emailAt < 0) return this.fail("1003", "lookupField not found in the CSV header")
    const filled = rows.filter((r) => r.some((f) => f !== ""))
    // First in, first out over `importMaxRunning` slots: a job starts when it has waited
    // `importQueuedMillis` and the job `importMaxRunning` places ahead of it has ended.
    const ahead = jobs.sort((a, b) => a.batchId - b.batchId)[jobs.length - this.config.importMaxRunning]
    const startsAt = Math.max(now + this.config.importQueuedMillis, ahead?.endsAt ?? 0)
    const batchId = this.s.nextId++
    this.s.imports.set(batchId, {
      batchId,
      listId,
      createdAt: now,
      startsAt,
      endsAt: startsAt + this.config.importRunningMillis,
      header,
      emailAt,
      rows: filled,
      failed: this.takeImportFailure() ||
        (this.config.failImportsContaining !== undefined && filled.some((r) => r[emailAt] === this.config.failImportsContaining)),
      applied: false,
      processed: 0,
      warnings: [],
      failures: []
    })
    // Adobe's OpenAPI file requires the counters on this answer too.
    return this.ok([{ batchId, importId: String(batchId), status: "Queued", numOfLeadsProcessed: 0, numOfRowsFailed: 0, numOfRowsWithWarning: 0 }])
  }

  private takeImportFailure(): boolean {
    if (this.s.failNextImports <= 0) return false
    this.s.failNextImports--
    return true
  }

  private importState(job: ImportJob, now: number): "Queued" | "Importing" | "Complete" | "Failed" {
    if (now < job.startsAt) return "Queued"
    if (now < job.endsAt) return "Importing"
    return job.failed ? "Failed" : "Complete"
  }

  /** Imports take effect when they end (a queued or running import is not yet membership). */
  private advanceImports(now: number) {
    for (const job of this.s.imports.values()) {
      if (job.applied || now < job.endsAt) continue
      job.applied = true
      if (job.failed) continue
      const list = job.listId === undefined ? undefined : this.s.lists.get(job.listId)
      for (const row of job.rows) {
        const email = (row[job.emailAt] ?? "").trim()
        if (row.length !== job.header.length) {
          job.failures.push([...row, "Column count does not match the header"])
          continue
        }
        if (email === "") {
          job.failures.push([...row, "Value for lookup field 'email' not specified"])
          continue
        }
        if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) {
          job.warnings.push([...row, "Invalid email address"])
          continue
        }
        if ((this.s.byEmail.get(email.toLowerCase()) ?? []).length > 1) {
          job.warnings.push([...row, "Multiple lead match lookup criteria"])
          continue
        }
        const lead = this.upsertLead(email, job.endsAt)
        job.processed++
        if (list !== undefined) {
          list.members.add(lead.id)
          list.sorted = undefined
          list.updatedAt = job.endsAt
        }
      }
    }
  }

  private importStatus(job: ImportJob, now: number) {
    const status = this.importState(job, now)
    const done = status === "Complete"
    return {
      batchId: job.batchId,
      importId: String(job.batchId),
      status,
      numOfLeadsProcessed: done ? job.processed : 0,
      numOfRowsFailed: done ? job.failures.length : 0,
      numOfRowsWithWarning: done ? job.warnings.length : 0,
      message: status === "Failed"
        ? "Import failed: the file could not be processed"
        : done
        ? `Import completed with ${job.failures.length} failures and ${job.warnings.length} warnings`
        : `Import ${status.toLowerCase()}`
    }
  }
}

/** Index of the first id above `after` in ascending `ids`. */
const firstAbove = (ids: ReadonlyArray<number>, after: number) => {
  let lo = 0
  let hi = ids.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if (ids[mid]! <= after) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** The `file` part of a multipart/form-data body. */
const filePart = (body: string, boundary: string): string | undefined => {
  for (const part of body.split(`--${boundary}`)) {
    const split = part.indexOf("\r\n\r\n")
    if (split < 0) continue
    const headers = part.slice(0, split)
    if (!/name="file"/i.test(headers)) continue
    return part.slice(split + 4).replace(/\r\n$/, "")
  }
  return undefined
}

export type { FaultRule }
