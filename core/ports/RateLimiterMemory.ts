// The RateLimiter port in one process: the budget of core/marketo/RateBudget.ts over a Ref, for
// tests and Node runs. Waits sleep on the Effect Clock, so TestClock drives them in tests.
import { Clock, Effect, Layer, Ref } from "effect"
import * as RateBudget from "../marketo/RateBudget.js"
import { acquireUntilGranted, type MarketoSignal, RateLimiter } from "./RateLimiter.js"

export const makeRateLimiterMemory = (
  config: Partial<RateBudget.RateBudgetConfig> = {}
): Effect.Effect<RateLimiter["Type"]> =>
  Effect.gen(function*() {
    const budget = RateBudget.makeRateBudgetConfig(config)
    const state = yield* Ref.make(RateBudget.initialRateBudgetState)
    const counter = yield* Ref.make(0)
    // Callers queue for concurrency on a semaphore rather than polling the budget: in one
    // process a release can wake the next caller directly.
    const slots = yield* Effect.makeSemaphore(budget.maxConcurrency)

    const tryAcquire = (permitId: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Ref.modify(state, (s) => {
          const result = RateBudget.acquire(budget, s, now, permitId)
          return [result, result.state] as const
        }))

    // Each attempt is atomic; only the sleeps between attempts can be interrupted, so a granted
    // permit is always released.
    const acquireLoop = (permitId: string, restore: <A, E, R>(e: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>) =>
      acquireUntilGranted(tryAcquire(permitId), restore)

    const release = (permitId: string) => Ref.update(state, (s) => RateBudget.release(s, permitId))

    return {
      withPermit: <A, E, R>(self: Effect.Effect<A, E, R>) =>
        slots.withPermits(1)(Effect.uninterruptibleMask((restore) =>
          Effect.flatMap(Ref.updateAndGet(counter, (n) => n + 1), (n) => {
            const permitId = `memory-${n}`
            return Effect.zipRight(
              acquireLoop(permitId, restore),
              restore(self).pipe(Effect.ensuring(release(permitId)))
            )
          })
        )),
      signal: (signal: MarketoSignal) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Ref.update(state, (s) => RateBudget.signal(budget, s, now, signal.code))),
      status: Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.map(Ref.get(state), (s) => RateBudget.status(budget, s, now)))
    }
  })

export const layerRateLimiterMemory = (config: Partial<RateBudget.RateBudgetConfig> = {}): Layer.Layer<RateLimiter> =>
  Layer.effect(RateLimiter, makeRateLimiterMemory(config))
