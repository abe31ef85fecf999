// The RPC surface of the per-instance Durable Object (workers/MarketoInstance.ts), as the
// adapters see it. Kept here so the adapters depend on a contract, not on the worker's class.
import type { BudgetStatus } from "../../core/ports/RateLimiter.js"
import type { LeadFieldCheck } from "../../core/marketo/LeadFieldCheck.js"
import type { SignalCode } from "../../core/marketo/RateBudget.js"
import type { TickRecord } from "../../core/5-tick/TickOutcome.js"

/** What `acquire` answers: the budget's decision without its state. */
export type AcquireAnswer =
  | { readonly _tag: "Granted"; readonly permitId: string }
  | { readonly _tag: "Wait"; readonly retryAfterMillis: number }
  | { readonly _tag: "Exhausted"; readonly reason: "daily-quota" | "marketo-607"; readonly resumesAt: number }

export interface StoredToken {
  readonly token: string
  /** Epoch ms after which Marketo no longer accepts the token. */
  readonly expiresAt: number
}

export type LeaseAnswer =
  | { readonly granted: true; readonly holder: string; readonly expiresAt: number }
  | { readonly granted: false; readonly holder: string; readonly expiresAt: number }

/** A pointer moved by `commit`: the version it replaced, if any, can be deleted from KV. */
export interface Committed {
  readonly key: string
  readonly version: number
  /** The version this commit replaced, or null for a new key. */
  readonly previous: number | null
  /** False when a newer version was already committed: this one was never visible. */
  readonly applied: boolean
}

/** A key and the version of it that is current. */
export interface Pointer {
  readonly key: string
  readonly version: number
}

export interface Lease {
  readonly holder: string
  readonly expiresAt: number
}

export interface MarketoInstanceApi {
  acquire(permitId: string): AcquireAnswer
  release(permitId: string): void
  signal(code: SignalCode): void
  status(): BudgetStatus
  getToken(): StoredToken | null
  setToken(token: StoredToken): void
  clearToken(token: string): boolean
  acquireLease(holder: string, ttlMillis: number): LeaseAnswer
  renewLease(holder: string, ttlMillis: number): LeaseAnswer
  releaseLease(holder: string): boolean
  allocateVersions(count: number): Array<number>
  getPointers(keys: ReadonlyArray<string>): Array<Pointer>
  commit(pointers: ReadonlyArray<Pointer>): Array<Committed>
  remove(keys: ReadonlyArray<string>): Array<Pointer>
  list(prefix: string): Array<Pointer>
  recordTick(record: TickRecord): void
  tickHistory(): Array<TickRecord>
  /** The lead fields last checked against the instance's describe2 (workers/LeadFieldCheck.ts). */
  getLeadFieldCheck(): LeadFieldCheck | null
  setLeadFieldCheck(check: LeadFieldCheck): void
}

/** The object seen through its stub: every method answers a promise. */
export type MarketoInstanceStub = {
  readonly [K in keyof MarketoInstanceApi]: MarketoInstanceApi[K] extends (...args: infer A) => infer R
    ? (...args: A) => Promise<R>
    : never
}

/** The object's name for an endpoint: one object per Marketo instance, however its URL is written. */
export { instanceName } from "../marketo/Endpoint.js"
import { instanceName } from "../marketo/Endpoint.js"

/** The stub of the object that serves a Marketo endpoint. */
export const instanceStub = <T extends Rpc.DurableObjectBranded | undefined>(
  namespace: DurableObjectNamespace<T>,
  endpoint: string
): DurableObjectStub<T> => namespace.get(namespace.idFromName(instanceName(endpoint)))
