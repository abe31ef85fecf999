// RateLimiter over Deno KV: every process of the deployment draws from one budget record per
// Marketo instance, [...prefix, "budget"]. Each request for a permit, release and signal is a
// read-modify-write of that record with core/marketo/RateBudget.ts (unchanged), committed only if
// the record did not change since the read (KvAtomic.update); a refused request sleeps for the
// time the budget names and asks again with the same permit id. As on Cloudflare, a granted
// permit is released when the call ends, whatever its outcome, and one not released expires.
import { Clock, Effect, Layer } from "effect"
import * as RateBudget from "../../core/marketo/RateBudget.js"
import { acquireUntilGranted, type MarketoSignal, type PermitDecision, RateLimiter } from "../../core/ports/RateLimiter.js"
import { DenoKv, type DenoKvService } from "./DenoKv.js"
import { kvTry, update } from "./KvAtomic.js"

export const make = ({ kv, prefix }: DenoKvService, config: Partial<RateBudget.RateBudgetConfig> = {}): Effect.Effect<RateLimiter["Type"]> =>
  Effect.map(Effect.makeSemaphore(1), (lock): RateLimiter["Type"] => {
    const budget = RateBudget.makeRateBudgetConfig(config)
    const key: Deno.KvKey = [...prefix, "budget"]
    const load = (stored: RateBudget.RateBudgetState | null) => stored ?? RateBudget.initialRateBudgetState

    // The database unreachable even after the conflict retries: nothing sensible to do but stop the
    // run (the Durable Object limiter does the same).
    const change = <A>(operation: string, step: (state: RateBudget.RateBudgetState, now: number) => readonly [A, RateBudget.RateBudgetState]) =>
      Effect.orDie(update<RateBudget.RateBudgetState, A>(kv, key, operation, (stored, now) => {
        const [answer, next] = step(load(stored), now)
        return { answer, next }
      }, lock))

    // Asking again with a granted id is answered Granted without a second charge, so a commit
    // whose answer was lost cannot take two slots.
    const attempt = (permitId: string) =>
      change("acquire", (state, now): readonly [PermitDecision, RateBudget.RateBudgetState] => {
        const result = RateBudget.acquire(budget, state, now, permitId)
        switch (result._tag) {
          case "Granted":
            return [{ _tag: "Granted" }, result.state]
          case "Wait":
            return [{ _tag: "Wait", retryAfterMillis: result.retryAfterMillis }, result.state]
          case "Exhausted":
            return [{ _tag: "Exhausted", reason: result.reason, resumesAt: result.resumesAt }, result.state]
        }
      })

    // A release that fails leaves the permit to expire (crash safety).
    const release = (permitId: string) => Effect.ignore(change("release", (state) => [undefined, RateBudget.release(state, permitId)]))

    return {
      withPermit: <A, E, R>(self: Effect.Effect<A, E, R>) =>
        Effect.uninterruptibleMask((restore) =>
          Effect.flatMap(Effect.sync(() => crypto.randomUUID()), (permitId) =>
            Effect.zipRight(acquireUntilGranted(attempt(permitId), restore), restore(self).pipe(Effect.ensuring(release(permitId)))))
        ),
      signal: (signal: MarketoSignal) => change("signal", (state, now) => [undefined, RateBudget.signal(budget, state, now, signal.code)]),
      status: Effect.orDie(kvTry("status", () => kv.get<RateBudget.RateBudgetState>(key))).pipe(
        Effect.zip(Clock.currentTimeMillis),
        Effect.map(([entry, now]) => RateBudget.status(budget, load(entry.value), now))
      )
    }
  })

export const layer = (config: Partial<RateBudget.RateBudgetConfig> = {}): Layer.Layer<RateLimiter, never, DenoKv> =>
  Layer.effect(RateLimiter, Effect.flatMap(DenoKv, (db) => make(db, config)))
