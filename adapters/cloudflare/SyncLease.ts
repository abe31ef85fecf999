// The sync lease: one writer per Marketo instance at a time. The lease expires by itself, so a
// tick that crashed does not block the next ones for longer than its time to live. A holder that
// is still running renews it every third of its time to live, so a tick that waits out a long rate
// pause (606/615 back-offs double up to 5 minutes) keeps it, and the next cron tick answers busy
// instead of writing alongside it; a holder that loses the lease anyway is stopped.
import { Data, Duration, Effect } from "effect"
import type { LeaseAnswer, MarketoInstanceStub } from "./MarketoInstanceApi.js"
import { rpcCall, type RpcFailure } from "./RpcCall.js"

/** Another tick holds the lease. */
export class LeaseHeld extends Data.TaggedError("LeaseHeld")<{
  readonly holder: string
  readonly expiresAt: number
}> {}

/** The lease was taken by another holder while this one ran (its renewal was refused). */
export class LeaseLost extends Data.TaggedError("LeaseLost")<{
  readonly holder: string
}> {}

export type LeaseObject = Pick<MarketoInstanceStub, "acquireLease" | "renewLease" | "releaseLease">

export interface SyncLeaseService {
  readonly acquire: (holder: string, ttlMillis: number) => Effect.Effect<LeaseAnswer, RpcFailure>
  readonly renew: (holder: string, ttlMillis: number) => Effect.Effect<LeaseAnswer, RpcFailure>
  readonly release: (holder: string) => Effect.Effect<boolean, RpcFailure>
  /**
   * Run `self` holding the lease, renewed while it runs; fails with LeaseHeld when another holder
   * has it, and interrupts `self` with LeaseLost if a renewal is refused.
   */
  readonly withLease: <A, E, R>(
    holder: string,
    ttlMillis: number,
    self: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | LeaseHeld | LeaseLost | RpcFailure, R>
}

export const make = (instance: LeaseObject): SyncLeaseService => {
  const acquire = (holder: string, ttlMillis: number) => rpcCall("acquireLease", () => instance.acquireLease(holder, ttlMillis))
  const renew = (holder: string, ttlMillis: number) => rpcCall("renewLease", () => instance.renewLease(holder, ttlMillis))
  const release = (holder: string) => rpcCall("releaseLease", () => instance.releaseLease(holder))
  // Renews until interrupted (when `self` ends); a refused renewal ends the race with LeaseLost.
  // A renewal that cannot reach the object is tried again at the next beat: the lease still has
  // two thirds of its time to live.
  const keepAlive = (holder: string, ttlMillis: number): Effect.Effect<never, LeaseLost> =>
    Effect.forever(
      Effect.sleep(Duration.millis(Math.max(1, Math.floor(ttlMillis / 3)))).pipe(
        Effect.zipRight(Effect.either(renew(holder, ttlMillis))),
        Effect.flatMap((answer) =>
          answer._tag === "Right" && !answer.right.granted ? Effect.fail(new LeaseLost({ holder })) : Effect.void)
      )
    )
  return {
    acquire,
    renew,
    release,
    withLease: (holder, ttlMillis, self) =>
      Effect.acquireUseRelease(
        Effect.flatMap(acquire(holder, ttlMillis), (answer) =>
          answer.granted ? Effect.void : Effect.fail(new LeaseHeld({ holder: answer.holder, expiresAt: answer.expiresAt }))),
        () => Effect.raceFirst(self, keepAlive(holder, ttlMillis)),
        // If the release fails the lease simply expires.
        () => Effect.ignore(release(holder))
      )
  }
}
