// One Durable Object per Marketo instance (named by its normalised endpoint). It holds what must
// be strongly consistent across every invocation of the worker: the rate budget, the shared access
// token, the sync lease, the current version of each state record stored in KV, the audience keys
// ingest has admitted or seen removed (workers/AudienceRegistry.ts), and the lead fields as last
// checked against the instance.
//
// Storage is the object's SQLite database through its synchronous APIs (`storage.sql`,
// `storage.kv`). No method below awaits anything, so each RPC runs start to finish without any
// other request interleaving: every read-modify-write is atomic without explicit transactions, and
// the runtime holds the reply until the writes are durable.
import { DurableObject } from "cloudflare:workers"
import type { LeadFieldCheck } from "../core/marketo/LeadFieldCheck.js"
import * as RateBudget from "../core/marketo/RateBudget.js"
import { type Admission, type AdmissionRequest, AudienceRegistry, type Tombstone } from "./AudienceRegistry.js"
import type { BudgetStatus } from "../core/ports/RateLimiter.js"
import { maxTickRecords, tickHistoryMillis, type TickRecord } from "../core/5-tick/TickOutcome.js"
import type {
  AcquireAnswer,
  Committed,
  Lease,
  LeaseAnswer,
  MarketoInstanceApi,
  Pointer,
  StoredToken
} from "../adapters/cloudflare/MarketoInstanceApi.js"

export interface MarketoInstanceEnv {
  readonly MARKETO_CALLS_PER_20S?: string
  readonly MARKETO_MAX_CONCURRENCY?: string
  readonly MARKETO_DAILY_QUOTA?: string
  readonly MARKETO_DAILY_RESERVE?: string
}

// SQLite in Durable Objects binds at most 100 parameters per statement.
const maxBindings = 100

const budgetKey = "budget"
const tokenKey = "token"
const leaseKey = "lease"
const nextVersionKey = "next-version"
const leadFieldCheckKey = "lead-field-check"

const intVar = (value: string | undefined, fallback: number): number => {
  const n = value === undefined || value.trim() === "" ? Number.NaN : Number(value)
  return Number.isInteger(n) ? n : fallback
}

/**
 * The budget limits from the worker's variables; defaults where a variable is absent. Limits that
 * make no sense (a reserve above the quota) throw: every call fails loudly rather than run unbounded.
 */
export const budgetConfigFromEnv = (env: MarketoInstanceEnv): RateBudget.RateBudgetConfig => {
  const d = RateBudget.defaultRateBudgetConfig
  return RateBudget.makeRateBudgetConfig({
    callsPerWindow: intVar(env.MARKETO_CALLS_PER_20S, d.callsPerWindow),
    maxConcurrency: intVar(env.MARKETO_MAX_CONCURRENCY, d.maxConcurrency),
    dailyQuota: intVar(env.MARKETO_DAILY_QUOTA, d.dailyQuota),
    dailyReserve: intVar(env.MARKETO_DAILY_RESERVE, d.dailyReserve)
  })
}

/** The prefix's upper bound: a key starting with the prefix sorts below prefix + U+10FFFF. */
const prefixEnd = (prefix: string) => `${prefix}\u{10FFFF}`

const chunks = <A>(items: ReadonlyArray<A>, size: number): Array<ReadonlyArray<A>> => {
  const out: Array<ReadonlyArray<A>> = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

export class MarketoInstance extends DurableObject<MarketoInstanceEnv> implements MarketoInstanceApi {
  private readonly budget: RateBudget.RateBudgetConfig
  private readonly audiences: AudienceRegistry

  constructor(ctx: DurableObjectState, env: MarketoInstanceEnv) {
    super(ctx, env)
    this.budget = budgetConfigFromEnv(env)
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS pointers (key TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID"
    )
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS ticks (seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, record TEXT NOT NULL)")
    this.audiences = new AudienceRegistry(ctx.storage.sql, ctx.storage.kv)
  }

  // --- tick history ----------------------------------------------------------------------------

  /** Keep what a tick did; records older than a day, or beyond the most kept, go. */
  recordTick(record: TickRecord): void {
    const sql = this.ctx.storage.sql
    sql.exec("INSERT INTO ticks (at, record) VALUES (?, ?)", record.at, JSON.stringify(record))
    sql.exec("DELETE FROM ticks WHERE at < ?", Date.now() - tickHistoryMillis)
    sql.exec("DELETE FROM ticks WHERE seq <= (SELECT MAX(seq) FROM ticks) - ?", maxTickRecords)
  }

  /** The last day's ticks, oldest first. */
  tickHistory(): Array<TickRecord> {
    return this.ctx.storage.sql.exec<{ record: string }>("SELECT record FROM ticks WHERE at >= ? ORDER BY seq", Date.now() - tickHistoryMillis)
      .toArray()
      .map((row) => JSON.parse(row.record) as TickRecord)
  }

  // --- audience keys (workers/AudienceRegistry.ts) ----------------------------------------------

  admitAudiences(requests: ReadonlyArray<AdmissionRequest>, maxAudiences: number): Array<Admission> {
    return this.audiences.admit(requests, maxAudiences)
  }

  registerAudience(key: string): void {
    this.audiences.register(key)
  }

  buryAudience(key: string, at: number, onlyIfLive: boolean): boolean {
    return this.audiences.bury(key, at, onlyIfLive)
  }

  countIgnored(counts: ReadonlyArray<{ readonly key: string; readonly ignored: number }>): void {
    this.audiences.countIgnored(counts)
  }

  tombstones(): Array<Tombstone> {
    return this.audiences.tombstones()
  }

  // --- rate budget -----------------------------------------------------------------------------

  private loadBudget(): RateBudget.RateBudgetState {
    return this.ctx.storage.kv.get<RateBudget.RateBudgetState>(budgetKey) ?? RateBudget.initialRateBudgetState
  }

  /** Ask for a call slot. Asking again with a granted id is answered Granted without a second charge. */
  acquire(permitId: string): AcquireAnswer {
    const result = RateBudget.acquire(this.budget, this.loadBudget(), Date.now(), permitId)
    this.ctx.storage.kv.put(budgetKey, result.state)
    switch (result._tag) {
      case "Granted":
        return { _tag: "Granted", permitId: result.permitId }
      case "Wait":
        return { _tag: "Wait", retryAfterMillis: result.retryAfterMillis }
      case "Exhausted":
        return { _tag: "Exhausted", reason: result.reason, resumesAt: result.resumesAt }
    }
  }

  release(permitId: string): void {
    this.ctx.storage.kv.put(budgetKey, RateBudget.release(this.loadBudget(), permitId))
  }

  signal(code: RateBudget.SignalCode): void {
    this.ctx.storage.kv.put(budgetKey, RateBudget.signal(this.budget, this.loadBudget(), Date.now(), code))
  }

  status(): BudgetStatus {
    return RateBudget.status(this.budget, this.loadBudget(), Date.now())
  }

  // --- access token ----------------------------------------------------------------------------

  getToken(): StoredToken | null {
    return this.ctx.storage.kv.get<StoredToken>(tokenKey) ?? null
  }

  setToken(token: StoredToken): void {
    this.ctx.storage.kv.put(tokenKey, { token: token.token, expiresAt: token.expiresAt })
  }

  /** Forget the token, but only if it is still the one the caller saw rejected. */
  clearToken(token: string): boolean {
    const current = this.getToken()
    if (current === null || current.token !== token) return false
    this.ctx.storage.kv.delete(tokenKey)
    return true
  }

  // --- sync lease ------------------------------------------------------------------------------

  private currentLease(now: number): Lease | null {
    const lease = this.ctx.storage.kv.get<Lease>(leaseKey)
    return lease !== undefined && lease.expiresAt > now ? lease : null
  }

  /** Take the lease if it is free or expired (or already ours: then it is extended). */
  acquireLease(holder: string, ttlMillis: number): LeaseAnswer {
    const now = Date.now()
    const lease = this.currentLease(now)
    if (lease !== null && lease.holder !== holder) return { granted: false, ...lease }
    const next = { holder, expiresAt: now + ttlMillis }
    this.ctx.storage.kv.put(leaseKey, next)
    return { granted: true, ...next }
  }

  /** Extend the lease; refused when the holder lost it (expired and possibly taken by another). */
  renewLease(holder: string, ttlMillis: number): LeaseAnswer {
    const now = Date.now()
    const lease = this.currentLease(now)
    if (lease === null || lease.holder !== holder) {
      return lease === null ? { granted: false, holder: "", expiresAt: 0 } : { granted: false, ...lease }
    }
    const next = { holder, expiresAt: now + ttlMillis }
    this.ctx.storage.kv.put(leaseKey, next)
    return { granted: true, ...next }
  }

  releaseLease(holder: string): boolean {
    const lease = this.currentLease(Date.now())
    if (lease === null || lease.holder !== holder) return false
    this.ctx.storage.kv.delete(leaseKey)
    return true
  }

  // --- lead field check ------------------------------------------------------------------------

  /** The mapped lead fields as last checked against Marketo's describe2 (workers/LeadFieldCheck.ts). */
  getLeadFieldCheck(): LeadFieldCheck | null {
    return this.ctx.storage.kv.get<LeadFieldCheck>(leadFieldCheckKey) ?? null
  }

  setLeadFieldCheck(check: LeadFieldCheck): void {
    this.ctx.storage.kv.put(leadFieldCheckKey, check)
  }

  // --- version pointers ------------------------------------------------------------------------

  /** Fresh version numbers, never handed out twice, so each write goes to a KV key of its own. */
  allocateVersions(count: number): Array<number> {
    const first = this.ctx.storage.kv.get<number>(nextVersionKey) ?? 1
    this.ctx.storage.kv.put(nextVersionKey, first + count)
    return Array.from({ length: count }, (_, i) => first + i)
  }

  /** The current version of each key that exists (absent keys are left out). */
  getPointers(keys: ReadonlyArray<string>): Array<Pointer> {
    const out: Array<Pointer> = []
    for (const part of chunks([...new Set(keys)], maxBindings)) {
      const rows = this.ctx.storage.sql.exec<{ key: string; version: number }>(
        `SELECT key, version FROM pointers WHERE key IN (${part.map(() => "?").join(",")})`,
        ...part
      )
      for (const row of rows) out.push({ key: row.key, version: row.version })
    }
    return out
  }

  /**
   * Point each key at its new version, all in one step (readers see all or none). A pointer only
   * moves forward: a commit older than the current version is not applied, so a slow writer can
   * never put an older value back.
   */
  commit(pointers: ReadonlyArray<Pointer>): Array<Committed> {
    const current = new Map(this.getPointers(pointers.map((p) => p.key)).map((p) => [p.key, p.version]))
    const out: Array<Committed> = []
    for (const { key, version } of pointers) {
      const previous = current.get(key) ?? null
      const applied = previous === null || version > previous
      if (applied) {
        this.ctx.storage.sql.exec(
          "INSERT INTO pointers (key, version) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET version = excluded.version",
          key,
          version
        )
        current.set(key, version)
      }
      out.push({ key, version, previous, applied })
    }
    return out
  }

  /** Delete the pointers; answers the versions they named, for the caller to delete from KV. */
  remove(keys: ReadonlyArray<string>): Array<Pointer> {
    const removed = this.getPointers(keys)
    for (const part of chunks(removed.map((p) => p.key), maxBindings)) {
      this.ctx.storage.sql.exec(`DELETE FROM pointers WHERE key IN (${part.map(() => "?").join(",")})`, ...part)
    }
    return removed
  }

  /** The keys under a prefix, sorted, with their versions. */
  list(prefix: string): Array<Pointer> {
    const rows = prefix === ""
      ? this.ctx.storage.sql.exec<{ key: string; version: number }>("SELECT key, version FROM pointers ORDER BY key")
      : this.ctx.storage.sql.exec<{ key: string; version: number }>(
        "SELECT key, version FROM pointers WHERE key >= ? AND key < ? ORDER BY key",
        prefix,
        prefixEnd(prefix)
      )
    const out: Array<Pointer> = []
    for (const row of rows) if (row.key.startsWith(prefix)) out.push({ key: row.key, version: row.version })
    return out
  }
}
