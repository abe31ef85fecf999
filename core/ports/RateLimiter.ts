// The instance's call budget, shared by every invocation: a rolling window (calls per 20 s),
// a concurrency cap, and a daily quota with a reserve left for other integrations. The Marketo
// client wraps every HTTP call in `withPermit`. Implementations: `layerMemory` (core/RateBudget.ts
// logic over a Ref, for tests and Node) and the Durable Object (adapters/cloudflare).
import { Context, Data, type Effect } from "effect"

/** No call may start now: the day's quota (less its reserve) is spent, or Marketo said 607. */
export class BudgetExhausted extends Data.TaggedError("BudgetExhausted")<{
  readonly reason: "daily-quota" | "marketo-607"
  /** Epoch ms when calls may resume. */
  readonly resumesAt: number
}> {}

/** What Marketo told us about traffic we do not control. */
export type MarketoSignal =
  | { readonly code: "606" | "615" }
  | { readonly code: "607" }

export interface BudgetStatus {
  readonly callsPerWindow: number
  readonly windowMillis: number
  readonly maxConcurrency: number
  readonly usedInWindow: number
  readonly inFlight: number
  readonly dailyQuota: number
  readonly dailyReserve: number
  readonly usedToday: number
  /** Epoch ms of the next daily reset (midnight US Central). */
  readonly resetsAt: number
  /** Epoch ms until which no call starts (after 606/615/607), or 0. */
  readonly pausedUntil: number
}

export class RateLimiter extends Context.Tag("marketo-lists/RateLimiter")<RateLimiter, {
  /** Wait for a slot in the window and a concurrency permit, run `self`, release the permit. */
  readonly withPermit: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | BudgetExhausted, R>
  /** Marketo refused a call for a reason outside our own traffic: pause the whole instance. */
  readonly signal: (signal: MarketoSignal) => Effect.Effect<void>
  readonly status: Effect.Effect<BudgetStatus>
}>() {}
