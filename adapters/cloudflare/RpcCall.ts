// One RPC to the instance's Durable Object, as an Effect. A call can fail when the object is
// being moved or restarted; the methods are idempotent or harmless to repeat, so a short retry
// hides those moments from the callers.
import { Data, Effect, Schedule } from "effect"

export class RpcFailure extends Data.TaggedError("RpcFailure")<{
  readonly method: string
  readonly cause: unknown
}> {}

const retryPolicy = Schedule.exponential("50 millis").pipe(Schedule.intersect(Schedule.recurs(3)))

export const rpcCall = <A>(method: string, call: () => Promise<A>): Effect.Effect<A, RpcFailure> =>
  Effect.tryPromise({ try: call, catch: (cause) => new RpcFailure({ method, cause }) }).pipe(
    Effect.retry(retryPolicy),
    Effect.withSpan(`MarketoInstance.${method}`)
  )
