// What the app (routes, pages, settings, the tick) needs from the runtime it runs on, as one
// service: the core's ports for a Marketo instance, the instance's strongly consistent records
// (audience admission, tombstones, tick records, the budget's status) and the settings as plain
// strings. Cloudflare provides it with KV and the instance's Durable Object
// (workers/CloudflarePlatform.ts), Deno with Deno KV (deno/DenoPlatform.ts); nothing else in
// workers/ names a runtime.
import type { Layer } from "effect"
import type { TokenStore } from "../adapters/marketo/AccessToken.js"
import type { TickRecord } from "../core/5-tick/TickOutcome.js"
import type { LeadFieldCheck } from "../core/marketo/LeadFieldCheck.js"
import type { BudgetStatus, RateLimiter } from "../core/ports/RateLimiter.js"
import type { StateStoreService } from "../core/ports/StateStore.js"
import type { SyncLeaseService } from "../core/ports/SyncLease.js"
import type { Admission, AdmissionRequest, Tombstone } from "./AudienceAdmission.js"
import type { SettingsEnv } from "./Settings.js"

/**
 * The records of one Marketo instance that every request must see the same way (a Durable Object
 * on Cloudflare, versionstamp-checked Deno KV records on Deno). Each call may fail (a promise that
 * rejects); callers wrap them with a retry (adapters/cloudflare/RpcCall.ts).
 */
export interface InstanceRecords {
  admitAudiences(requests: ReadonlyArray<AdmissionRequest>, maxAudiences: number): Promise<Array<Admission>>
  registerAudience(key: string): Promise<void>
  buryAudience(key: string, at: number, onlyIfLive: boolean): Promise<boolean>
  countIgnored(counts: ReadonlyArray<{ readonly key: string; readonly ignored: number }>): Promise<void>
  tombstones(): Promise<Array<Tombstone>>
  recordTick(record: TickRecord): Promise<void>
  tickHistory(): Promise<Array<TickRecord>>
  /** The rate budget's status, without taking a slot. */
  status(): Promise<BudgetStatus>
  /** The lead fields as last checked against the instance's describe2 (workers/LeadFieldCheck.ts). */
  getLeadFieldCheck(): Promise<LeadFieldCheck | null>
  setLeadFieldCheck(check: LeadFieldCheck): Promise<void>
}

export interface PlatformService {
  /** Every setting of the README's table, as the runtime holds them (blank counts as not set). */
  readonly env: SettingsEnv
  readonly instance: (endpoint: string) => InstanceRecords
  readonly stateStore: (endpoint: string) => StateStoreService
  readonly rateLimiter: (endpoint: string) => Layer.Layer<RateLimiter>
  readonly tokenStore: (endpoint: string) => TokenStore["Type"]
  readonly syncLease: (endpoint: string) => SyncLeaseService
}
