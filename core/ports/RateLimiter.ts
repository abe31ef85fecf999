// The instance's call budget, shared by every invocation: a rolling window (calls per 20 s),
// a concurrency cap, and a daily quota with a reserve left for other integrations. The Marketo
// client wraps every HTTP call in `withPermit`. Implementations: RateLimiterMemory.ts beside this
// file (core/marketo/RateBudget.ts over a Ref, for tests and Node) and the Durable Object
// (adapters/cloudflare); the port knows neither.
import { Context, Data, Effect } from "effect"

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

/** A budget's answer to one request for a permit. */
export type PermitDecision =
  | { readonly _tag: "Granted" }
  | { readonly _tag: "Wait"; readonly retryAfterMillis: number }
  | { readonly _tag: "Exhausted"; readonly reason: BudgetExhausted["reason"]; readonly resumesAt: number }

/**
 * Ask until granted, sleeping as told between attempts. Only the sleeps are interruptible
 * (`restore`), so a permit once granted is always handed back to the caller to release.
 */
export const acquireUntilGranted = <E>(
  attempt: Effect.Effect<PermitDecision, E>,
  restore: <A, E2, R>(self: Effect.Effect<A, E2, R>) => Effect.Effect<A, E2, R>
): Effect.Effect<void, E | BudgetExhausted> => {
  const loop: Effect.Effect<void, E | BudgetExhausted> = Effect.flatMap(attempt, (decision) => {
    switch (decision._tag) {
      case "Granted":
        return Effect.void
      case "Wait":
        return Effect.zipRight(restore(Effect.sleep(decision.retryAfterMillis)), loop)
      case "Exhausted":
        return Effect.fail(new BudgetExhausted({ reason: decision.reason, resumesAt: decision.resumesAt }))
    }
  })
  return loop
}

export class RateLimiter extends Context.Tag("marketo-lists/RateLimiter")<RateLimiter, {
  /** Wait for a slot in the window and a concurrency permit, run `self`, release the permit. */
  readonly withPermit: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | BudgetExhausted, R>
  /** Marketo refused a call for a reason outside our own traffic: pause the whole instance. */
  readonly signal: (signal: MarketoSignal) => Effect.Effect<void>
  readonly status: Effect.Effect<BudgetStatus>
}>() {}
