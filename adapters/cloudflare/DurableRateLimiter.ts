// RateLimiter over the instance's Durable Object: every invocation of the worker, in any
// location, draws from the same budget. A refused request sleeps for the time the object names
// and asks again; a granted permit is released when the call ends, whatever its outcome.
import { Effect, Layer } from "effect"
import { acquireUntilGranted, type MarketoSignal, RateLimiter } from "../../core/ports/RateLimiter.js"
import type { MarketoInstanceStub } from "./MarketoInstanceApi.js"
import { rpcCall } from "./RpcCall.js"

export type BudgetObject = Pick<MarketoInstanceStub, "acquire" | "release" | "signal" | "status">

export const make = (instance: BudgetObject): RateLimiter["Type"] => {
  // The object cannot be reached even after retries: nothing sensible to do but stop the run.
  const call = <A>(method: string, f: () => Promise<A>) => Effect.orDie(rpcCall(method, f))

  // Asking again with the same id is idempotent, so a retried RPC cannot take two slots.
  const acquire = (permitId: string, restore: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>) =>
    acquireUntilGranted(call("acquire", () => instance.acquire(permitId)), restore)

  // A release that fails leaves the permit to expire in the object (crash safety).
  const release = (permitId: string) => Effect.ignore(call("release", () => instance.release(permitId)))

  return {
    withPermit: <A, E, R>(self: Effect.Effect<A, E, R>) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.flatMap(Effect.sync(() => crypto.randomUUID()), (permitId) =>
          Effect.zipRight(acquire(permitId, restore), restore(self).pipe(Effect.ensuring(release(permitId)))))
      ),
    signal: (signal: MarketoSignal) => call("signal", () => instance.signal(signal.code)),
    status: call("status", () => instance.status())
  }
}

export const layer = (instance: BudgetObject): Layer.Layer<RateLimiter> => Layer.succeed(RateLimiter, make(instance))
